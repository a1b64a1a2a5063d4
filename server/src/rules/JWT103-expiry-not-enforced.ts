import { defineRule } from './rule';

// STUB: to be implemented (catalog: decode with `verify_exp` off (in `options`; a bare `verify_exp=False` keyword is a no-op in PyJWT 2 and is reported as a note); a `leeway` over one day; an authlib decode whose claims are never `.vali...)
export const JWT103 = defineRule({
  code: 'JWT103',
  name: 'expiry-not-enforced',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [3],
  messages: { default: 'expiry-not-enforced' },
  docs: '',
  check() {},
});
