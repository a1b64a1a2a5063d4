import { defineRule } from './rule';

// STUB: to be implemented (catalog: `CORSMiddleware` with `allow_origins=["*"]` (or `allow_origin_regex` matching everything) together with `allow_credentials=True`...)
export const SEC301 = defineRule({
  code: 'SEC301',
  name: 'cors-wildcard-credentials',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [],
  messages: { default: 'cors-wildcard-credentials' },
  docs: '',
  check() {},
});
