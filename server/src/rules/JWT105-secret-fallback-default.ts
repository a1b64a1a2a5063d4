import { defineRule } from './rule';

// STUB: to be implemented (catalog: the secret read from the environment with a literal fallback: `os.getenv("X", "dev")`, `os.environ.get("X", "...")`, `config("X", default=...)`, a pydantic `BaseSettings` secret field with a literal d...)
export const JWT105 = defineRule({
  code: 'JWT105',
  name: 'secret-fallback-default',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [2, 10],
  messages: { default: 'secret-fallback-default' },
  docs: '',
  check() {},
});
