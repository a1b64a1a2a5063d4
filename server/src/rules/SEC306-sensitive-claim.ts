import { defineRule } from './rule';

// STUB: to be implemented (catalog: a token issued with a password, password hash or secret-like value in its payload...)
export const SEC306 = defineRule({
  code: 'SEC306',
  name: 'sensitive-claim',
  severity: 'warning',
  fix: 'sometimes',
  checklist: [12],
  messages: { default: 'sensitive-claim' },
  docs: '',
  check() {},
});
