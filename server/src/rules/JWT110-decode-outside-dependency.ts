import { defineRule } from './rule';

// STUB: to be implemented (catalog: a JWT decode written inside a route body, or the same verification logic written in more than one place, instead of one FastAPI dependency...)
export const JWT110 = defineRule({
  code: 'JWT110',
  name: 'decode-outside-dependency',
  severity: 'suggestion',
  fix: 'none',
  checklist: [5],
  messages: { default: 'decode-outside-dependency' },
  docs: '',
  check() {},
});
