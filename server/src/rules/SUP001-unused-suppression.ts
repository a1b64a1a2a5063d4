import { defineRule } from './rule';

/** Produced by the analysis itself (core/analyze.ts), which knows which suppressions silenced something. */
export const SUP001 = defineRule({
  code: 'SUP001',
  name: 'unused-suppression',
  severity: 'suggestion',
  fix: 'always',
  checklist: [],
  messages: { unused: 'Suppression comment silences nothing for `{codes}`' },
  docs: `## What it does
Reports a \`# jwt-api-security: ignore[...]\` comment that silences no finding, like Ruff's unused \`noqa\`.

## Why is this bad?
A stale suppression hides the next real finding on that line: once the code changes, a new flaw there would be
silenced without anyone deciding so.

## Example
\`\`\`python
import os

SECRET = os.environ["BETTER_AUTH_SECRET"]  # jwt-api-security: ignore[JWT104]
\`\`\`

## Use instead
\`\`\`python
import os

SECRET = os.environ["BETTER_AUTH_SECRET"]
\`\`\`

## Fix safety
Safe: removing a comment that silences nothing does not change what is reported.

## References
- [Ruff: unused-noqa (RUF100)](https://docs.astral.sh/ruff/rules/unused-noqa/)
`,
  check() {
    // Intentionally empty: see the comment above.
  },
});
