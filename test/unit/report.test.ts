/**
 * The Markdown audit report: sections by severity, `path:line` relative to the root, before/after blocks built
 * from the file's own text, "Use instead" for findings without a fix, the checklist table and the strengths;
 * and the audit's checklist evidence (holds / fails / not applicable, a provider that throws).
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { initParser } from '../../server/src/python/parser';
import { renderEdits, renderReport, useInstead, whyLine } from '../../server/src/cli/formats/report';
import { audit, CHECKLIST, registerEvidence, type AuditResult, type ChecklistItem } from '../../server/src/core/audit';
import { DEFAULT_EVIDENCE } from '../../server/src/core/evidence';
import { ISO207 } from '../../server/src/rules/ISO207-sql-injection';
import type { Finding } from '../../server/src/core/types';
import { workspaceOf } from '../support';

const ROOT = path.join(path.sep, 'work', 'app');
const range = (line: number, start: number, end: number) => ({ start: { line, character: start }, end: { line, character: end } });

const ROUTES = [
  'from sqlalchemy import text',
  '',
  '',
  'def tasks_of(session, user_id: str):',
  '    return session.execute(text(f"SELECT * FROM task WHERE user_id = \'{user_id}\'")).all()',
  '',
].join('\n');

const SQL_LINE = ROUTES.split('\n')[4];
const FSTRING_START = SQL_LINE.indexOf('f"');
const FSTRING_END = SQL_LINE.indexOf('\'")') + 2;

function finding(over: Partial<Finding>): Finding {
  return {
    code: 'ISO207',
    name: 'sql-injection',
    severity: 'critical',
    message: 'SQL text passed to `text` is built with an f-string from `user_id`',
    file: path.join(ROOT, 'app', 'routes.py'),
    range: range(4, FSTRING_START, FSTRING_END),
    related: [],
    checklist: [11],
    ...over,
  };
}

function result(findings: Finding[], checklist?: ChecklistItem[]): AuditResult {
  const counts = { critical: 0, warning: 0, suggestion: 0 };
  for (const f of findings) counts[f.severity]++;
  return {
    root: ROOT,
    files: 3,
    findings,
    notices: [],
    counts,
    checklist:
      checklist ??
      CHECKLIST.map((c) => ({ ...c, status: 'not-applicable' as const, evidence: [], findings: [] })),
  };
}

const files: Record<string, string> = { [path.join(ROOT, 'app', 'routes.py')]: ROUTES };
const readFile = (p: string) => files[p];

before(async () => {
  await initParser();
});

describe('renderReport', () => {
  it('has the title, summary and the four sections in order, and no absolute path', () => {
    const out = renderReport(result([finding({})]), ROOT, { readFile });
    assert.match(out, /^# JWT API Security Audit: `app`\n/);
    assert.match(out, /\*\*1 finding\*\* in 3 Python files: 1 critical, 0 warnings, 0 suggestions\./);
    const order = ['## 🔴 Critical Security Issues', '## 🟡 Authentication Logic Warnings', '## 🟢 Best Practice Suggestions', '## ✅ Security Strengths', '## Checklist'];
    const positions = order.map((h) => out.indexOf(h));
    assert.ok(positions.every((p) => p >= 0), 'a section is missing');
    assert.deepEqual([...positions].sort((a, b) => a - b), positions);
    assert.ok(!out.includes(ROOT), 'the report leaks the absolute root');
    assert.match(out, /`ISO207` sql-injection: `app\/routes.py:5`/);
  });

  it('renders the fix as a before/after block from the actual file text', () => {
    const fixed = finding({
      fix: {
        title: 'Pass the values as bound parameters',
        safety: 'unsafe',
        edits: [
          { range: range(4, FSTRING_START, FSTRING_END), newText: '"SELECT * FROM task WHERE user_id = :user_id"' },
          { range: range(4, FSTRING_END + 1, FSTRING_END + 1), newText: ', {"user_id": user_id}' },
        ],
      },
    });
    const out = renderReport(result([fixed]), ROOT, { readFile });
    assert.ok(out.includes('**Fix** (unsafe, applied by `--fix --unsafe-fixes` after review): Pass the values as bound parameters'));
    assert.ok(out.includes(`-     return session.execute(text(f"SELECT * FROM task WHERE user_id = '{user_id}'")).all()`));
    assert.ok(out.includes('+     return session.execute(text("SELECT * FROM task WHERE user_id = :user_id"), {"user_id": user_id}).all()'));
    assert.ok(!out.includes('**Use instead:**'), 'a finding with a fix shows the fix, not the generic guidance');
  });

  it('falls back to the rule\'s "Use instead" guidance without a fix, or when the file cannot be read', () => {
    const out = renderReport(result([finding({})]), ROOT, { readFile: () => undefined });
    assert.ok(out.includes('**Use instead:**'));
    assert.ok(out.includes(useInstead(ISO207.docs)!.trim()));
    assert.ok(out.includes(`**Why it matters:** ${whyLine(ISO207.docs)}`));
  });

  it('shows a rule\'s "Use instead" example once and points later findings of the rule back to it', () => {
    const second = finding({ range: range(4, 0, 4), message: 'another' });
    const out = renderReport(result([finding({}), second]), ROOT, { readFile: () => undefined });
    assert.equal(out.split('**Use instead:**').length - 1, 2);
    assert.ok(out.includes('**Use instead:** see finding 1 above.'));
  });

  it('groups findings by severity and numbers them across sections', () => {
    const warning = finding({ code: 'SEC302', name: 'session-auth-mixed', severity: 'warning', message: 'a warning', range: range(0, 0, 4) });
    const note = finding({ code: 'SEC305', name: 'debug-enabled', severity: 'suggestion', message: 'a note', range: range(1, 0, 4) });
    const out = renderReport(result([note, warning, finding({})]), ROOT, { readFile });
    const crit = out.indexOf('### 1. `ISO207`');
    const warn = out.indexOf('### 2. `SEC302`');
    const sugg = out.indexOf('### 3. `SEC305`');
    assert.ok(crit > 0 && warn > crit && sugg > warn, out);
    assert.ok(out.indexOf('### 2. `SEC302`') > out.indexOf('## 🟡 Authentication Logic Warnings'));
  });

  it('lists holding items as strengths and shows the checklist with evidence places', () => {
    const checklist = CHECKLIST.map((c): ChecklistItem => {
      if (c.id === 2) return { ...c, status: 'holds', findings: [], evidence: [{ file: path.join(ROOT, 'app', 'auth.py'), range: range(11, 4, 20), message: '`jwt.decode` verifies | pins' }] };
      if (c.id === 11) return { ...c, status: 'fails', findings: [finding({})], evidence: [] };
      return { ...c, status: 'not-applicable', findings: [], evidence: [] };
    });
    const out = renderReport(result([finding({})], checklist), ROOT, { readFile });
    const strengths = out.slice(out.indexOf('## ✅ Security Strengths'), out.indexOf('## Checklist'));
    assert.ok(strengths.includes('**2. Signature verified with the secret from the environment**'));
    assert.ok(strengths.includes('`app/auth.py:12`'));
    assert.ok(!strengths.includes('Parameterized SQL'), 'a failing item is not a strength');
    assert.ok(out.includes('| 2 | Signature verified with the secret from the environment | ✅ holds | `app/auth.py:12` |'));
    assert.ok(out.includes('| 11 | Parameterized SQL only | ❌ fails | ISO207 at `app/routes.py:5` |'));
    assert.ok(out.includes('| 1 | JWT read only from the `Authorization: Bearer` header | ➖ not applicable | — |'));
    assert.equal(out.split('\n').filter((l) => /^\| \d+ \|/.test(l)).length, 12);
  });

  it('keeps blank lines inside code blocks and squeezes them outside', () => {
    const out = renderReport(result([finding({})]), ROOT, { readFile: () => undefined });
    assert.ok(!/\n\n\n/.test(out.replace(/```python[\s\S]*?```/g, 'CODE')), 'runs of blank lines outside code');
    assert.ok(/```python\n[\s\S]*\n\n\ndef tasks_of/.test(out), 'the example lost its two blank lines');
  });

  it('is deterministic', () => {
    const r = result([finding({})]);
    assert.equal(renderReport(r, ROOT, { readFile }), renderReport(r, ROOT, { readFile }));
  });
});

describe('renderEdits', () => {
  const text = ['import jwt', '', 'SECRET = "x"', 'value = 1', ''].join('\n');

  it('shows a pure insertion (an import) with the line above as context', () => {
    const blocks = renderEdits(text, [{ range: range(1, 0, 0), newText: 'import os\n' }])!;
    assert.deepEqual(blocks, ['```diff', '  import jwt', '+ import os', '```', '']);
  });

  it('gives distant edits their own blocks', () => {
    const blocks = renderEdits(text, [
      { range: range(1, 0, 0), newText: 'import os\n' },
      { range: range(2, 9, 12), newText: 'os.environ["SECRET"]' },
    ])!;
    // One block: the edits are within two lines of each other.
    assert.equal(blocks.filter((l) => l === '```diff').length, 1);
    assert.ok(blocks.includes('+ import os'));
    assert.ok(blocks.includes('- SECRET = "x"'));
    assert.ok(blocks.includes('+ SECRET = os.environ["SECRET"]'));
    const far = renderEdits(['a = 1', '', '', '', '', 'b = 2'].join('\n'), [
      { range: range(0, 4, 5), newText: '3' },
      { range: range(5, 4, 5), newText: '4' },
    ])!;
    assert.equal(far.filter((l) => l === '```diff').length, 2);
  });

  it('returns undefined for overlapping edits instead of throwing', () => {
    assert.equal(renderEdits(text, [{ range: range(2, 0, 6), newText: 'a' }, { range: range(2, 3, 8), newText: 'b' }]), undefined);
  });
});

describe('audit checklist evidence', () => {
  const app = [
    'import os',
    '',
    'import jwt',
    'from fastapi import Depends, FastAPI, HTTPException',
    'from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer',
    'from sqlalchemy import text',
    '',
    'app = FastAPI()',
    'bearer = HTTPBearer()',
    '',
    '',
    'def get_current_user(credentials: HTTPAuthorizationCredentials = Depends(bearer)) -> str:',
    '    try:',
    '        payload = jwt.decode(credentials.credentials, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])',
    '    except jwt.PyJWTError:',
    '        raise HTTPException(status_code=401, detail="Invalid token")',
    '    if not payload.get("sub"):',
    '        raise HTTPException(status_code=401, detail="Invalid token")',
    '    return payload["sub"]',
    '',
    '',
    '@app.get("/count")',
    'def count(session, user_id: str = Depends(get_current_user)):',
    '    return session.execute(text("SELECT count(*) FROM task WHERE user_id = :uid"), {"uid": user_id}).scalar_one()',
    '',
  ].join('\n');

  it('shows where items hold, with real lines', () => {
    const ws = workspaceOf({ 'app.py': app });
    try {
      const r = audit(ws);
      const item = (id: number) => r.checklist.find((c) => c.id === id)!;
      for (const id of [1, 2, 3, 4, 6, 9, 10, 11, 12]) assert.equal(item(id).status, 'holds', `item ${id}: ${JSON.stringify(item(id).evidence)}`);
      assert.equal(item(1).evidence[0].range.start.line, 8, 'HTTPBearer() is on line 9');
      assert.equal(item(2).evidence[0].range.start.line, 13, 'the decode is on line 14');
      assert.match(item(2).evidence[0].message, /BETTER_AUTH_SECRET.*HS256/);
      assert.equal(item(11).evidence[0].range.start.line, 23);
    } finally {
      ws.dispose();
    }
  });

  it('marks items with nothing to show as not applicable, and failing items with their findings', () => {
    const ws = workspaceOf({ 'app.py': 'import os\n\nprint(os.getcwd())\n', 'q.py': 'from sqlalchemy import text\n\n\ndef f(s, x):\n    return s.execute(text(f"SELECT * FROM t WHERE a = {x}"))\n' });
    try {
      const r = audit(ws);
      assert.ok(r.checklist.filter((c) => c.id !== 11).every((c) => c.status === 'not-applicable'), JSON.stringify(r.checklist.map((c) => [c.id, c.status])));
      const sql = r.checklist.find((c) => c.id === 11)!;
      assert.equal(sql.status, 'fails');
      assert.deepEqual(sql.findings.map((f) => f.code), ['ISO207']);
    } finally {
      ws.dispose();
    }
  });

  it('turns a provider that throws into a notice and "not applicable"', () => {
    const ws = workspaceOf({ 'app.py': app });
    registerEvidence(5, () => {
      throw new Error('boom');
    });
    try {
      const r = audit(ws);
      assert.equal(r.checklist.find((c) => c.id === 5)!.status, 'not-applicable');
      assert.ok(r.notices.some((n) => /item 5.*boom/.test(n.message)));
    } finally {
      registerEvidence(5, DEFAULT_EVIDENCE.get(5)!);
      ws.dispose();
    }
  });
});
