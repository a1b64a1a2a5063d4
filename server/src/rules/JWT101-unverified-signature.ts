import { defineRule } from './rule';

// STUB: to be implemented (catalog: a JWT library decode with signature verification off (`options={"verify_signature": False}`, inline or through a variable; `verify=False` where the workspace pins PyJWT 1.x or pins nothing — with PyJW...)
export const JWT101 = defineRule({
  code: 'JWT101',
  name: 'unverified-signature',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [2],
  messages: { default: 'unverified-signature' },
  docs: '',
  check() {},
});
