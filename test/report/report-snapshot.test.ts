/**
 * Snapshot of the Markdown audit report for a small review app (test/report/fixtures/review-app), audited with the
 * configuration-and-hygiene rules and ISO207 so the snapshot moves only when the report or those rules change; and
 * the README's example (examples/todo-api) rendered with every rule, checked for what the report promises: every
 * `path:line` is a real line, the strengths are exactly the items that hold, each finding sits in its severity's
 * section. Regenerate the snapshot with `UPDATE_SNAPSHOTS=1`.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { initParser } from '../../server/src/python/parser';
import { audit, type AuditResult } from '../../server/src/core/audit';
import { renderReport } from '../../server/src/cli/formats/report';
import type { Settings } from '../../server/src/core/settings';
import { REPO_ROOT, loadWorkspace } from '../support';

const HERE = path.join(REPO_ROOT, 'test', 'report');
const REVIEW_APP = path.join(HERE, 'fixtures', 'review-app');
const SNAPSHOT = path.join(HERE, 'snapshots', 'review-app.md');
const EXAMPLE = path.join(REPO_ROOT, 'examples', 'todo-api');

function auditDir(dir: string, settings: Partial<Settings> = {}): { result: AuditResult; report: string } {
  const ws = loadWorkspace(dir, { includeTests: false, ...settings });
  try {
    const result = audit(ws);
    return { result, report: renderReport(result, dir) };
  } finally {
    ws.dispose();
  }
}

/** Every `path:line` reference in the report names an existing file and a line inside it. */
function checkLocations(report: string, root: string): string[] {
  const problems: string[] = [];
  for (const m of report.matchAll(/`([\w./-]+\.(?:py|env|gitignore|toml|txt)|\.env[\w.]*|\.gitignore):(\d+)`/g)) {
    const file = path.join(root, m[1]);
    if (!fs.existsSync(file)) {
      problems.push(`no such file: ${m[1]}`);
      continue;
    }
    const lines = fs.readFileSync(file, 'utf8').split('\n').length;
    const line = Number(m[2]);
    if (line < 1 || line > lines) problems.push(`${m[1]}:${line} is outside the file (${lines} lines)`);
  }
  return problems;
}

before(async () => {
  await initParser();
});

describe('audit report snapshot', () => {
  const select = ['ISO207', 'SEC301', 'SEC302', 'SEC303', 'SEC304', 'SEC305'];

  it('matches test/report/snapshots/review-app.md', () => {
    const { report } = auditDir(REVIEW_APP, { select });
    if (process.env.UPDATE_SNAPSHOTS === '1') {
      fs.mkdirSync(path.dirname(SNAPSHOT), { recursive: true });
      fs.writeFileSync(SNAPSHOT, report);
    }
    assert.equal(report, fs.readFileSync(SNAPSHOT, 'utf8'));
  });

  it('reports each selected rule\'s flaw in the review app at a real line', () => {
    const { result, report } = auditDir(REVIEW_APP, { select });
    assert.deepEqual([...new Set(result.findings.map((f) => f.code))].sort(), ['ISO207', 'SEC301', 'SEC302', 'SEC303', 'SEC304']);
    assert.deepEqual(checkLocations(report, REVIEW_APP), []);
  });
});

describe('audit report of examples/todo-api', () => {
  it('points every reference at a real line, lists the holding items as strengths, and puts findings in their sections', () => {
    const { result, report } = auditDir(EXAMPLE);
    assert.ok(result.findings.length > 0, 'the example has deliberate flaws');
    assert.deepEqual(checkLocations(report, EXAMPLE), []);

    const strengths = report.slice(report.indexOf('## ✅ Security Strengths'), report.indexOf('## Checklist'));
    const listed = [...strengths.matchAll(/^- \*\*(\d+)\. /gm)].map((m) => Number(m[1]));
    assert.deepEqual(listed, result.checklist.filter((c) => c.status === 'holds').map((c) => c.id));

    const sections: Record<string, string> = { critical: '## 🔴', warning: '## 🟡', suggestion: '## 🟢' };
    for (const f of result.findings) {
      const rel = path.relative(EXAMPLE, f.file).split(path.sep).join('/');
      const heading = report.indexOf(`\` ${f.name}: \`${rel}:${f.range.start.line + 1}\``);
      assert.ok(heading > 0, `no entry for ${f.code} at ${rel}:${f.range.start.line + 1}`);
      const section = report.lastIndexOf('\n## ', heading);
      assert.ok(report.startsWith(sections[f.severity], section + 1), `${f.code} is not under its ${f.severity} section`);
    }
  });

  it('reports exactly the deliberate flaws: one finding after each `FLAW (CODE)` comment, the codes the README lists', () => {
    const { result } = auditDir(EXAMPLE);
    const flaws = flawLines();
    assert.ok(flaws.length >= 6, 'the example should carry six to eight deliberate flaws');
    for (const { code, file, line } of flaws) {
      assert.ok(
        result.findings.some((f) => f.code === code && f.file === file && f.range.start.line > line && f.range.start.line <= line + 6),
        `${code} is not reported after its FLAW comment at ${path.relative(EXAMPLE, file)}:${line + 1}`,
      );
    }
    const unexpected = result.findings.filter((f) => !flaws.some((x) => x.code === f.code && x.file === f.file && f.range.start.line > x.line && f.range.start.line <= x.line + 6));
    assert.deepEqual(unexpected.map((f) => `${f.code} ${path.relative(EXAMPLE, f.file)}:${f.range.start.line + 1} ${f.message}`), []);
    const readme = fs.readFileSync(path.join(EXAMPLE, 'README.md'), 'utf8');
    const listed = [...readme.matchAll(/\| ((?:JWT|ISO|SEC)\d{3}) \|$/gm)].map((m) => m[1]).sort();
    assert.deepEqual(listed, flaws.map((f) => f.code).sort(), 'the README table and the FLAW comments disagree');
  });
});

/** `# FLAW (CODE): ...` comments in the example, with 0-based line numbers. */
function flawLines(): { code: string; file: string; line: number }[] {
  const out: { code: string; file: string; line: number }[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.py')) {
        fs.readFileSync(full, 'utf8')
          .split('\n')
          .forEach((l, i) => {
            const m = /# FLAW \(((?:JWT|ISO|SEC)\d{3})\)/.exec(l);
            if (m) out.push({ code: m[1], file: full, line: i });
          });
      }
    }
  };
  walk(EXAMPLE);
  return out;
}
