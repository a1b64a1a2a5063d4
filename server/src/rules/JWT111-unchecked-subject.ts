import { defineRule } from './rule';

// STUB: to be implemented (catalog: the user id taken from claims without a presence/type check (`payload.get("sub")` used directly, possibly `None`), or identity taken from a non-identity claim (`email`, `name`)...)
export const JWT111 = defineRule({
  code: 'JWT111',
  name: 'unchecked-subject',
  severity: 'warning',
  fix: 'sometimes',
  checklist: [6],
  messages: { default: 'unchecked-subject' },
  docs: '',
  check() {},
});
