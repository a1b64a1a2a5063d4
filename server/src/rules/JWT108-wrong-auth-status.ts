import { defineRule } from './rule';

// STUB: to be implemented (catalog: an authentication failure (missing, malformed, expired, bad-signature token, missing `sub`) answered with a status other than 401 (403, 400, 500, 200 with an error body); `HTTPBearer()` / `APIKey*` wi...)
export const JWT108 = defineRule({
  code: 'JWT108',
  name: 'wrong-auth-status',
  severity: 'warning',
  fix: 'sometimes',
  checklist: [4],
  messages: { default: 'wrong-auth-status' },
  docs: '',
  check() {},
});
