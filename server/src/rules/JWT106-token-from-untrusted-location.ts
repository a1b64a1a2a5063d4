import { defineRule } from './rule';

// STUB: to be implemented (catalog: the token taken from a query parameter (`Query`, `request.query_params`, `APIKeyQuery`), a cookie (`request.cookies`, `Cookie`, `APIKeyCookie`) or the body, instead of the `Authorization: Bearer` head...)
export const JWT106 = defineRule({
  code: 'JWT106',
  name: 'token-from-untrusted-location',
  severity: 'warning',
  fix: 'none',
  checklist: [1],
  messages: { default: 'token-from-untrusted-location' },
  docs: '',
  check() {},
});
