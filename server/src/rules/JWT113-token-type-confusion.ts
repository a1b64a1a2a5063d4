import { defineRule } from './rule';

// STUB: to be implemented (catalog: an app that issues more than one kind of token with the same key (access and refresh, email verification, password reset: a `type`/`token_type`/`scope` claim or separate issue functions) and an auth d...)
export const JWT113 = defineRule({
  code: 'JWT113',
  name: 'token-type-confusion',
  severity: 'warning',
  fix: 'none',
  checklist: [6],
  messages: { default: 'token-type-confusion' },
  docs: '',
  check() {},
});
