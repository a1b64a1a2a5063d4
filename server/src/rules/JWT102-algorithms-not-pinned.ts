import { defineRule } from './rule';

// STUB: to be implemented (catalog: decode with no `algorithms=` (python-jose, PyJWT 1.x, PyJWT 2.x with a non-`PyJWK` key: that raises at run time), the module-level authlib `jwt` (accepts every algorithm), `algorithms` containing `"no...)
export const JWT102 = defineRule({
  code: 'JWT102',
  name: 'algorithms-not-pinned',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [2],
  messages: { default: 'algorithms-not-pinned' },
  docs: '',
  check() {},
});
