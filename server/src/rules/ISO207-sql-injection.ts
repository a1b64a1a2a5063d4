import { defineRule } from './rule';

// STUB: to be implemented (catalog: SQL text built from values with an f-string, `%`, `.format` or `+`, passed to `text()`, `execute()`, `exec_driver_sql()`, `raw()` or a DB-API cursor...)
export const ISO207 = defineRule({
  code: 'ISO207',
  name: 'sql-injection',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [11],
  messages: { default: 'sql-injection' },
  docs: '',
  check() {},
});
