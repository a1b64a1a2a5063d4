import { defineRule } from './rule';

// STUB: to be implemented (catalog: a `.env` file holding a secret-like key that the workspace's `.gitignore` does not ignore; a secret in `.env` that is a placeholder or shorter than 32 characters...)
export const SEC304 = defineRule({
  code: 'SEC304',
  name: 'env-file-exposed',
  severity: 'warning',
  fix: 'sometimes',
  checklist: [10],
  messages: { default: 'env-file-exposed' },
  docs: '',
  check() {},
});
