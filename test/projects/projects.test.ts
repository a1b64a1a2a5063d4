/**
 * The project harness: every folder under test/fixtures/projects/ is a realistic multi-file app analysed with all
 * rules. Every inline annotation (`# ruleid:` / `# ok:` / `# todoruleid:` / `# todook:`, any code) must hold; the
 * isolation rules (ISO2xx) are strict: an ISO finding nobody annotated fails; and a project whose folder name starts
 * with `secure-` must produce no finding of any rule at all.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { initParser } from '../../server/src/python/parser';
import { analyzeWorkspace } from '../../server/src/core/analyze';
import { FIXTURES, listFilesRecursive, loadWorkspace } from '../support';
import { parseExpectations, type Expectation } from '../rules/expectations';
import type { Finding } from '../../server/src/core/types';

const PROJECTS = path.join(FIXTURES, 'projects');
const folders = fs.existsSync(PROJECTS) ? fs.readdirSync(PROJECTS).filter((d) => fs.statSync(path.join(PROJECTS, d)).isDirectory()).sort() : [];

function projectSettings(dir: string): Record<string, unknown> {
  const file = path.join(dir, 'settings.json');
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
}

function expectations(dir: string): Map<string, Expectation[]> {
  const out = new Map<string, Expectation[]>();
  for (const file of listFilesRecursive(dir).filter((f) => f.endsWith('.py'))) out.set(file, parseExpectations(fs.readFileSync(file, 'utf8')));
  return out;
}

function describeFinding(f: Finding, dir: string): string {
  return `${path.relative(dir, f.file)}:${f.range.start.line + 1}: ${f.code} ${f.message}`;
}

before(async () => {
  await initParser();
});

describe('fixture projects', () => {
  it('has at least a dozen projects, secure variants included', () => {
    assert.ok(folders.length >= 12, `only ${folders.length} projects`);
    assert.ok(folders.filter((f) => f.startsWith('secure-')).length >= 4, 'fewer than 4 secure projects');
  });

  for (const folder of folders) {
    const dir = path.join(PROJECTS, folder);
    describe(folder, () => {
      const analyze = () => {
        const ws = loadWorkspace(dir, projectSettings(dir));
        try {
          return analyzeWorkspace(ws);
        } finally {
          ws.dispose();
        }
      };

      it('holds every annotation, and reports no unannotated isolation finding', () => {
        const { findings, notices } = analyze();
        assert.deepEqual(notices.filter((n) => n.level === 'error'), [], 'analysis raised errors');
        const problems: string[] = [];
        const expected = expectations(dir);
        for (const [file, list] of expected) {
          for (const e of list) {
            const hit = findings.some((f) => f.file === file && f.code === e.code && f.range.start.line === e.line);
            const where = `${path.relative(dir, file)}:${e.line + 1} ${e.code}`;
            if (e.kind === 'ruleid' && !hit) problems.push(`missing finding at ${where}`);
            if (e.kind === 'ok' && hit) problems.push(`false positive at ${where}`);
            if (e.kind === 'todoruleid' && hit) problems.push(`todoruleid now passes at ${where}: make it ruleid`);
            if (e.kind === 'todook' && !hit) problems.push(`todook now passes at ${where}: make it ok`);
          }
        }
        for (const f of findings.filter((x) => x.code.startsWith('ISO'))) {
          const annotated = (expected.get(f.file) ?? []).some((e) => e.code === f.code && e.line === f.range.start.line && (e.kind === 'ruleid' || e.kind === 'todook'));
          if (!annotated) problems.push(`unannotated finding ${describeFinding(f, dir)}`);
        }
        assert.deepEqual(problems, []);
      });

      if (folder.startsWith('secure-')) {
        it('is clean: no finding of any rule', () => {
          const { findings } = analyze();
          assert.deepEqual(findings.map((f) => describeFinding(f, dir)), []);
        });
      } else {
        it('annotates at least one isolation finding', () => {
          const all = [...expectations(dir).values()].flat();
          assert.ok(all.some((e) => e.kind === 'ruleid' && e.code.startsWith('ISO')), 'a vulnerable project should expect an ISO finding');
        });
      }
    });
  }
});
