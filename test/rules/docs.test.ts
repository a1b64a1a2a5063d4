/**
 * Every rule's documentation: the fixed headings in order, an Example that triggers the rule and a Use instead
 * that does not, and message templates that are one clause without a trailing period.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { initParser } from '../../server/src/python/parser';
import { ALL_RULES } from '../../server/src/rules/index';
import { analyzeWorkspace } from '../../server/src/core/analyze';
import { workspaceOf } from '../support';

export const DOC_HEADINGS = ['What it does', 'Why is this bad?', 'Example', 'Use instead', 'Fix safety', 'References'];

function section(docs: string, heading: string): string {
  const start = docs.indexOf(`## ${heading}\n`);
  if (start === -1) return '';
  const rest = docs.slice(start + heading.length + 4);
  const end = rest.search(/^## /m);
  return end === -1 ? rest : rest.slice(0, end);
}

function pythonBlock(text: string): string | undefined {
  return /```python\n([\s\S]*?)```/.exec(text)?.[1];
}

/**
 * Non-Python files of an example (for workspace-level rules such as SEC304): a fenced block of another language
 * whose first line is a comment naming the file, e.g. "```dotenv" then "# .env".
 */
function auxBlocks(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/```(?!python)\w*\n# ([^\s]+)\n([\s\S]*?)```/g)) out[m[1]] = `# ${m[1]}\n${m[2]}`;
  return out;
}

before(async () => {
  await initParser();
});

describe('rule documentation', () => {
  for (const rule of ALL_RULES) {
    describe(`${rule.code}-${rule.name}`, () => {
      it('has the fixed headings in order', () => {
        const found = [...rule.docs.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
        assert.deepEqual(found, DOC_HEADINGS);
      });

      it('messages are one clause with no trailing period', () => {
        for (const [id, message] of Object.entries(rule.messages)) {
          assert.ok(!/\.\s*$/.test(message as string), `${id}: trailing period`);
          assert.ok(!/\n/.test(message as string), `${id}: more than one line`);
        }
      });

      if (rule.code === 'SUP001') return;
      it('its Example triggers the rule and its Use instead does not', () => {
        const bad = pythonBlock(section(rule.docs, 'Example'));
        const good = pythonBlock(section(rule.docs, 'Use instead'));
        assert.ok(bad, 'Example has no ```python block');
        assert.ok(good, 'Use instead has no ```python block');
        const run = (code: string, section: string) => {
          const ws = workspaceOf({ 'example.py': code, ...auxBlocks(section) });
          try {
            return analyzeWorkspace(ws, { onlyRules: [rule.code] }).findings.filter((f) => f.code === rule.code && f.severity === rule.severity);
          } finally {
            ws.dispose();
          }
        };
        assert.ok(run(bad, section(rule.docs, 'Example')).length > 0, 'the Example does not trigger the rule');
        assert.deepEqual(run(good, section(rule.docs, 'Use instead')).map((f) => f.message), [], 'the Use instead example triggers the rule');
      });
    });
  }
});
