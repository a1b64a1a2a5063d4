import { defineRule } from './rule';

// STUB: to be implemented (catalog: an update that copies client data onto an owned object field by field (`setattr` loop, `sqlmodel_update`, `.update(**data)`) where the client model includes the owner field, so a client can move an ob...)
export const ISO206 = defineRule({
  code: 'ISO206',
  name: 'owner-reassignable',
  severity: 'warning',
  fix: 'sometimes',
  checklist: [8],
  messages: { default: 'owner-reassignable' },
  docs: '',
  check() {},
});
