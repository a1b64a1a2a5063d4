import { defineRule } from './rule';

// STUB: to be implemented (catalog: a token-verification failure that does not end the request: `except` around decode that returns `None`/a default user, `pass`es, or logs and continues; `HTTPBearer(auto_error=False)`/`OAuth2PasswordBe...)
export const JWT107 = defineRule({
  code: 'JWT107',
  name: 'auth-error-swallowed',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [4],
  messages: { default: 'auth-error-swallowed' },
  docs: '',
  check() {},
});
