import { defineRule } from './rule';

// STUB: to be implemented (catalog: a route that takes a user identifier from the client (path, query, body field, header, named like the owner column or `user_id`/`uid`/`owner`) and uses it to read, filter or write data without first c...)
export const ISO202 = defineRule({
  code: 'ISO202',
  name: 'client-supplied-user-id',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [6],
  messages: { default: 'client-supplied-user-id' },
  docs: '',
  check() {},
});
