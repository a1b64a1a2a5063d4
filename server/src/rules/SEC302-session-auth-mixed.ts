import { defineRule } from './rule';

// STUB: to be implemented (catalog: session-based authentication alongside JWT: `SessionMiddleware`, identity read from `request.session`, or a session cookie checked as identity...)
export const SEC302 = defineRule({
  code: 'SEC302',
  name: 'session-auth-mixed',
  severity: 'warning',
  fix: 'none',
  checklist: [9],
  messages: { default: 'session-auth-mixed' },
  docs: '',
  check() {},
});
