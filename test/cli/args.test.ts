/**
 * The pure parts of the CLI: argument parsing, unified diffs (checked by applying them back), colour choice and
 * repository URLs.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../../server/src/cli/args';
import { unifiedDiff } from '../../server/src/cli/diff';
import { useColor, workspaceRoot } from '../../server/src/cli/main';
import { normalizeRepositoryUrl } from '../../server/src/cli/package-info';

describe('parseArgs', () => {
  it('defaults to auditing . as text at the suggestion threshold', () => {
    const o = parseArgs([]);
    assert.equal(o.command, 'check');
    assert.deepEqual(o.paths, ['.']);
    assert.equal(o.format, 'text');
    assert.equal(o.severity, 'suggestion');
  });

  it('reads values as separate words or after =, and short forms', () => {
    const o = parseArgs(['-f', 'sarif', '--output=r.sarif', '--select', 'jwt,ISO203', '--select=SEC', '-q', 'a', 'b']);
    assert.equal(o.format, 'sarif');
    assert.equal(o.output, 'r.sarif');
    assert.deepEqual(o.select, ['JWT', 'ISO203', 'SEC']);
    assert.equal(o.quiet, true);
    assert.deepEqual(o.paths, ['a', 'b']);
  });

  it('treats everything after -- as paths', () => {
    assert.deepEqual(parseArgs(['--', '--fix', 'rule']).paths, ['--fix', 'rule']);
    assert.equal(parseArgs(['--', '--fix']).fix, false);
  });

  it('recognises the rule subcommand', () => {
    assert.deepEqual([parseArgs(['rule', 'jwt101']).command, parseArgs(['rule', 'jwt101']).ruleCode], ['rule', 'JWT101']);
    assert.equal(parseArgs(['rule']).ruleCode, undefined);
    assert.equal(parseArgs(['./rule']).command, 'check');
  });

  it('rejects what it cannot honour', () => {
    for (const argv of [
      ['--nope'],
      ['--format'],
      ['--format', '--fix'],
      ['--fix=yes'],
      ['--statistics', '--format', 'sarif'],
      ['--ignore', ''],
      ['--select', 'JWT1O1'],
      ['rule', 'A', 'B'],
    ]) {
      assert.throws(() => parseArgs(argv), UsageError, argv.join(' '));
    }
  });
});

/** Applies a unified diff produced by unifiedDiff to `before` (hunks in order), to check it round-trips. */
function applyDiff(before: string, diff: string): string {
  const old = before.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const out: string[] = [];
  let cursor = 0;
  const lines = diff.split('\n');
  let pendingNoEol = false;
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i];
    const hunk = /^@@ -(\d+),(\d+) \+\d+,\d+ @@$/.exec(line);
    if (hunk) {
      const start = Number(hunk[2]) === 0 ? Number(hunk[1]) : Number(hunk[1]) - 1;
      while (cursor < start) out.push(old[cursor++]);
      continue;
    }
    if (line.startsWith('\\')) {
      if (pendingNoEol) out[out.length - 1] = out[out.length - 1].replace(/\n$/, '');
      continue;
    }
    if (line === '' && i === lines.length - 1) break;
    const body = `${line.slice(1)}\n`;
    pendingNoEol = false;
    if (line[0] === ' ') {
      out.push(old[cursor++]);
    } else if (line[0] === '-') {
      cursor++;
    } else if (line[0] === '+') {
      out.push(body);
      pendingNoEol = true;
    }
  }
  while (cursor < old.length) out.push(old[cursor++]);
  return out.join('');
}

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    assert.equal(unifiedDiff('a\n', 'a\n', 'x.py'), '');
  });

  it('shows one changed line with three lines of context', () => {
    const before = 'a\nb\nc\nd\ne\nf\ng\nh\n';
    const after = 'a\nb\nc\nd\nE\nf\ng\nh\n';
    assert.equal(unifiedDiff(before, after, 'x.py'), '--- a/x.py\n+++ b/x.py\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n');
  });

  it('splits distant changes into hunks and merges near ones', () => {
    const before = Array.from({ length: 30 }, (_, i) => `line ${i}\n`).join('');
    const after = before.replace('line 2\n', 'line two\n').replace('line 25\n', 'line 25\nadded\n');
    const diff = unifiedDiff(before, after, 'x.py');
    assert.equal((diff.match(/^@@/gm) ?? []).length, 2);
    assert.equal(applyDiff(before, diff), after);
  });

  it('round-trips insertions at the top, deletions at the end and a missing final newline', () => {
    const cases: [string, string][] = [
      ['b\nc\n', 'import os\nb\nc\n'],
      ['a\nb\nc\n', 'a\n'],
      ['a\nb', 'a\nb\n'],
      ['x = 1\r\ny = 2\r\n', 'import os\r\nx = 1\r\ny = 2\r\n'],
      ['', 'new\n'],
    ];
    for (const [before, after] of cases) assert.equal(applyDiff(before, unifiedDiff(before, after, 'f')), after, JSON.stringify([before, after]));
  });
});

describe('cli helpers', () => {
  it('colour: NO_COLOR wins, FORCE_COLOR forces, else a TTY that is not dumb', () => {
    assert.equal(useColor({ write: () => 0, isTTY: true }, {}), true);
    assert.equal(useColor({ write: () => 0, isTTY: true }, { NO_COLOR: '1' }), false);
    assert.equal(useColor({ write: () => 0, isTTY: true }, { TERM: 'dumb' }), false);
    assert.equal(useColor({ write: () => 0, isTTY: false }, {}), false);
    assert.equal(useColor({ write: () => 0, isTTY: false }, { FORCE_COLOR: '1' }), true);
  });

  it('normalizes repository URLs for helpUri', () => {
    assert.equal(normalizeRepositoryUrl('git+https://github.com/o/r.git'), 'https://github.com/o/r');
    assert.equal(normalizeRepositoryUrl('github:o/r'), 'https://github.com/o/r');
    assert.equal(normalizeRepositoryUrl('https://gitlab.com/g/r'), 'https://gitlab.com/g/r');
    assert.equal(normalizeRepositoryUrl('not a url'), undefined);
  });

  it('the workspace root is the common ancestor of the inputs', () => {
    assert.equal(workspaceRoot(['/nonexistent/a/b', '/nonexistent/a/c/d']), '/nonexistent/a');
  });
});
