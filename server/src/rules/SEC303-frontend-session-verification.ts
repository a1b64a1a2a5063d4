import { defineRule } from './rule';

// STUB: to be implemented (catalog: the backend asks the auth frontend to verify a user (`httpx`/`requests`/`aiohttp` call to a Better Auth endpoint such as `/api/auth/get-session`) instead of verifying the JWT locally...)
export const SEC303 = defineRule({
  code: 'SEC303',
  name: 'frontend-session-verification',
  severity: 'warning',
  fix: 'none',
  checklist: [9],
  messages: { default: 'frontend-session-verification' },
  docs: '',
  check() {},
});
