import { defineRule } from './rule';

// STUB: to be implemented (catalog: `verify_aud`, `verify_iss`, `verify_iat`, `verify_nbf` turned off, or an audience/issuer configured for encode but not checked on decode...)
export const JWT112 = defineRule({
  code: 'JWT112',
  name: 'claim-verification-disabled',
  severity: 'warning',
  fix: 'sometimes',
  checklist: [2],
  messages: { default: 'claim-verification-disabled' },
  docs: '',
  check() {},
});
