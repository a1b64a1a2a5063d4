/**
 * What the prescan tests share: cases whose finding lies in a file that holds it only through another file (the
 * prescan must accept the file, and reject it once the other file no longer provides the fact), and code with
 * nothing to do with FastAPI or JWTs (no file may pass, and none may be parsed to find out).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { analyzeWorkspace } from '../../server/src/core/analyze';
import { mayReport } from '../../server/src/rules/rule';
import { ruleByCode } from '../../server/src/rules/index';
import type { Workspace } from '../../server/src/workspace/workspace';
import { VIRTUAL_ROOT, virtualPath, workspaceOf } from '../support';

export const ROUTER = 'from fastapi import APIRouter\n\nrouter = APIRouter()\n';

export interface CrossFileCase {
  code: string;
  why: string;
  files: Record<string, string>;
  /** The file the finding is in. */
  file: string;
  /** What a gate on the file's own text would need and the file does not contain. */
  absent: RegExp;
  /** The same workspace without the cross-file fact: the rule cannot report in `file`, and its prescan says so. */
  without: Record<string, string>;
}

export function findingsOf(ws: Workspace, code: string, noPrescan: boolean) {
  return analyzeWorkspace(ws, { noPrescan, onlyRules: [code] }).findings.filter((f) => f.code === code);
}

export function describeCrossFileCases(cases: CrossFileCase[]): void {
  describe('prescans accept files that hold findings only through other files', () => {
    for (const c of cases) {
      it(`${c.code}: ${c.why}`, () => {
        const rule = ruleByCode(c.code)!;
        assert.ok(rule.prescan, `${c.code} declares a prescan`);
        assert.doesNotMatch(c.files[c.file], c.absent, 'the case keeps its point: the file lacks what a text gate needs');
        const ws = workspaceOf(c.files);
        try {
          const full = findingsOf(ws, c.code, true);
          assert.ok(full.some((f) => f.file === virtualPath(c.file)), `${c.code} reports in ${c.file} (got ${full.map((f) => path.relative(VIRTUAL_ROOT, f.file)).join(', ') || 'nothing'})`);
          assert.equal(mayReport(rule, ws.file(virtualPath(c.file))!, ws), true);
          assert.deepEqual(findingsOf(ws, c.code, false), full);
        } finally {
          ws.dispose();
        }
      });

      it(`${c.code}: the prescan rejects ${c.file} once the other file no longer provides the fact`, () => {
        const ws = workspaceOf({ ...c.files, ...c.without });
        try {
          assert.equal(findingsOf(ws, c.code, true).filter((f) => f.file === virtualPath(c.file)).length, 0, `without the cross-file fact ${c.code} does not report in ${c.file}`);
          assert.equal(mayReport(ruleByCode(c.code)!, ws.file(virtualPath(c.file))!, ws), false, 'and the prescan rejects the file');
        } finally {
          ws.dispose();
        }
      });
    }
  });
}

/** On `files`, no rule of `codes` passes its prescan for any file, and no file is parsed to find out. */
export function assertNoFilePasses(files: Record<string, string>, codes: string[]): void {
  const ws = workspaceOf(files);
  try {
    for (const code of codes) {
      for (const file of ws.allFiles()) assert.equal(mayReport(ruleByCode(code)!, file, ws), false, `${code} on ${path.basename(file.path)}`);
    }
    assert.equal(ws.modelsBuilt, 0);
  } finally {
    ws.dispose();
  }
}

/**
 * A file the rule reports in (`text`, as app.py) beside one it does not (`ok`, as other.py): the prescan accepts the
 * first, rejects the second, and the findings are the same with and without prescans.
 */
export function assertTextCase(code: string, text: string, ok: string): void {
  const ws = workspaceOf({ 'app.py': text, 'other.py': ok });
  try {
    const rule = ruleByCode(code)!;
    const full = findingsOf(ws, code, true);
    assert.ok(full.some((f) => f.file === virtualPath('app.py')), `${code} reports in app.py`);
    assert.ok(!full.some((f) => f.file === virtualPath('other.py')), 'and not in other.py');
    assert.equal(mayReport(rule, ws.file(virtualPath('app.py'))!, ws), true);
    assert.equal(mayReport(rule, ws.file(virtualPath('other.py'))!, ws), false);
    assert.deepEqual(findingsOf(ws, code, false), full);
  } finally {
    ws.dispose();
  }
}
