import { defineRule } from './rule';

// STUB: to be implemented (catalog: a decode/encode key that is a string or bytes literal, or a name (module constant, class attribute, settings field default) whose value is a literal; well-known sample keys (the FastAPI docs key, "sec...)
export const JWT104 = defineRule({
  code: 'JWT104',
  name: 'hardcoded-secret',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [2, 10],
  messages: { default: 'hardcoded-secret' },
  docs: '',
  check() {},
});
