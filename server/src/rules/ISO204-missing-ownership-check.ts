import { defineRule } from './rule';

// STUB: to be implemented (catalog: an owned object loaded by its own id (`session.get(Model, id)`, `select(Model).where(Model.id == id)`, `query(Model).filter_by(id=id).first()`) and then returned, changed or deleted with no check that...)
export const ISO204 = defineRule({
  code: 'ISO204',
  name: 'missing-ownership-check',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [8],
  messages: { default: 'missing-ownership-check' },
  docs: '',
  check() {},
});
