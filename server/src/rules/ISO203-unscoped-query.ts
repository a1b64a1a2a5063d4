import { defineRule } from './rule';

// STUB: to be implemented (catalog: in an authenticated route (or a helper it calls), a query over an owned model (`select(Model)`, `session.query(Model)`, `Model.objects`, `Model.all()`), executed, with no filter binding the owner colu...)
export const ISO203 = defineRule({
  code: 'ISO203',
  name: 'unscoped-query',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [7],
  messages: { default: 'unscoped-query' },
  docs: '',
  check() {},
});
