import { defineRule } from './rule';

// STUB: to be implemented (catalog: a route that reads or writes an owned model (or calls a function that does) and is not authenticated by any of the ways listed above. A dependency that only `return`s on a bad token (never raises) doe...)
export const ISO201 = defineRule({
  code: 'ISO201',
  name: 'unauthenticated-route',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [7, 8],
  messages: { default: 'unauthenticated-route' },
  docs: '',
  check() {},
});
