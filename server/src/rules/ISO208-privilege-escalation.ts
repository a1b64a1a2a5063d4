import { defineRule } from './rule';

// STUB: to be implemented (catalog: a client able to raise its own privileges: a privilege field (`is_admin`, `is_superuser`, `role`, `roles`, `scopes`, `permissions`) accepted from the request on create or update of a user (body model ...)
export const ISO208 = defineRule({
  code: 'ISO208',
  name: 'privilege-escalation',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [8],
  messages: { default: 'privilege-escalation' },
  docs: '',
  check() {},
});
