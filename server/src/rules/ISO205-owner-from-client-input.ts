import { defineRule } from './rule';

// STUB: to be implemented (catalog: an owned object created with its owner taken from the request (`Model(**body.dict())` / `Model.model_validate(body)` where the body model has the owner field, or `owner_id=body.owner_id`) instead of t...)
export const ISO205 = defineRule({
  code: 'ISO205',
  name: 'owner-from-client-input',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [6],
  messages: { default: 'owner-from-client-input' },
  docs: '',
  check() {},
});
