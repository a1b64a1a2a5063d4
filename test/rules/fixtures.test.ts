/**
 * The rules harness: every fixture folder under test/fixtures/rules/<CODE>-<name>/ is a small workspace whose
 * findings for that rule must match its inline expectations exactly, whose fixes must produce `<name>.fixed.py`,
 * and whose suppression comments must silence every expected line.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { initParser } from '../../server/src/python/parser';
import { RULES } from '../../server/src/rules/index';
import { analyzeWorkspace } from '../../server/src/core/analyze';
import { fixFile } from '../../server/src/core/apply-fixes';
import { suppressionComment } from '../../server/src/core/suppressions';
import { FIXTURES, listFilesRecursive, loadWorkspace, syntaxErrorCount } from '../support';
import { parseExpectations, type Expectation } from './expectations';
import type { Finding } from '../../server/src/core/types';
import { defaultSettings, normalizeSettings, type Settings } from '../../server/src/core/settings';

const RULE_FIXTURES = path.join(FIXTURES, 'rules');
const folders = fs.existsSync(RULE_FIXTURES) ? fs.readdirSync(RULE_FIXTURES).filter((d) => fs.statSync(path.join(RULE_FIXTURES, d)).isDirectory()) : [];

/**
 * Optional `settings.json` in a fixture folder (pyproject's kebab-case keys), for rules whose behaviour depends on
 * configuration; read through the one settings normalizer, so a bad key fails loudly.
 */
function fixtureSettings(dir: string): Partial<Settings> {
  const file = path.join(dir, 'settings.json');
  if (!fs.existsSync(file)) return {};
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  return normalizeSettings(raw, file, { ...defaultSettings(), includeTests: true });
}

function sourceFiles(dir: string): string[] {
  return listFilesRecursive(dir).filter((f) => f.endsWith('.py') && !f.endsWith('.fixed.py'));
}

/** `.env`, `.env.local`, `.env.production`: workspace-level rules (SEC304) annotate these like Python files. */
function envFiles(dir: string): string[] {
  return listFilesRecursive(dir).filter((f) => /^\.env(\..+)?$/.test(path.basename(f)));
}

function expectationsOf(dir: string, code: string): Map<string, Expectation[]> {
  const out = new Map<string, Expectation[]>();
  for (const file of [...sourceFiles(dir), ...envFiles(dir)]) {
    out.set(file, parseExpectations(fs.readFileSync(file, 'utf8')).filter((e) => e.code === code));
  }
  return out;
}

function describeFinding(f: Finding, dir: string): string {
  return `${path.relative(dir, f.file)}:${f.range.start.line + 1}: ${f.code} ${f.message}`;
}

before(async () => {
  await initParser();
});

describe('rule fixtures', () => {
  it('every rule has a fixture folder named exactly <CODE>-<name>', () => {
    for (const rule of RULES) {
      assert.ok(folders.includes(`${rule.code}-${rule.name}`), `no fixtures for ${rule.code}-${rule.name}`);
    }
    for (const folder of folders) {
      assert.ok(RULES.some((r) => `${r.code}-${r.name}` === folder), `fixture folder ${folder} names no rule`);
    }
  });

  for (const folder of folders) {
    const rule = RULES.find((r) => `${r.code}-${r.name}` === folder);
    if (!rule) continue;
    const dir = path.join(RULE_FIXTURES, folder);

    describe(folder, () => {
      const settings = fixtureSettings(dir);
      const analyze = () => {
        const ws = loadWorkspace(dir, settings);
        try {
          return analyzeWorkspace(ws, { onlyRules: [rule.code] });
        } finally {
          ws.dispose();
        }
      };

      it('reports exactly the annotated lines', () => {
        const { findings, notices } = analyze();
        assert.deepEqual(notices.filter((n) => n.level === 'error'), [], 'analysis raised errors');
        const problems: string[] = [];
        const expectations = expectationsOf(dir, rule.code);
        for (const [file, list] of expectations) {
          const lines = new Set(findings.filter((f) => f.file === file && f.code === rule.code).map((f) => f.range.start.line));
          for (const e of list) {
            const where = `${path.relative(dir, file)}:${e.line + 1}`;
            if (e.kind === 'ruleid' && !lines.has(e.line)) problems.push(`missing finding at ${where}`);
            if (e.kind === 'ok' && lines.has(e.line)) problems.push(`false positive at ${where}`);
            if (e.kind === 'todoruleid' && lines.has(e.line)) problems.push(`todoruleid now passes at ${where}: make it ruleid`);
            if (e.kind === 'todook' && !lines.has(e.line)) problems.push(`todook now passes at ${where}: make it ok`);
          }
        }
        for (const f of findings.filter((x) => x.code === rule.code)) {
          const list = expectations.get(f.file) ?? [];
          const annotated = list.some((e) => e.line === f.range.start.line && (e.kind === 'ruleid' || e.kind === 'todook'));
          if (!annotated) problems.push(`unannotated finding ${describeFinding(f, dir)}`);
        }
        assert.deepEqual(problems, []);
      });

      it('has at least five positive and five negative cases', () => {
        const all = [...expectationsOf(dir, rule.code).values()].flat();
        assert.ok(all.filter((e) => e.kind === 'ruleid').length >= 5, 'fewer than 5 `# ruleid:` cases');
        assert.ok(all.filter((e) => e.kind === 'ok').length >= 5, 'fewer than 5 `# ok:` cases');
      });

      it('declares its fix availability truthfully', () => {
        const { findings } = analyze();
        const withFix = findings.filter((f) => f.fix && f.fix.edits.length > 0);
        if (rule.fix === 'none') assert.equal(withFix.length, 0, 'a rule declared without fixes offered one');
        if (rule.fix === 'always') assert.equal(withFix.length, findings.length, 'a rule declared "always" left a finding without a fix');
        if (rule.fix === 'sometimes') assert.ok(withFix.length > 0, 'a rule declared "sometimes" offered no fix in its fixtures');
        for (const f of withFix) assert.match(f.fix!.title, /^[A-Z`]/, `fix title should be an imperative sentence: ${f.fix!.title}`);
      });

      for (const file of sourceFiles(dir)) {
        const fixed = file.replace(/\.py$/, '.fixed.py');
        if (!fs.existsSync(fixed)) continue;
        it(`fixes ${path.basename(file)} into ${path.basename(fixed)}`, () => {
          const ws = loadWorkspace(dir, settings);
          try {
            const before = fs.readFileSync(file, 'utf8');
            const result = fixFile(ws, file, { unsafe: true }, { onlyRules: [rule.code] });
            assert.equal(result.text, fs.readFileSync(fixed, 'utf8'));
            assert.ok(syntaxErrorCount(result.text) <= syntaxErrorCount(before), 'the fix introduced a syntax error');
            const again = fixFile(ws, file, { unsafe: true }, { onlyRules: [rule.code] });
            assert.equal(again.text, result.text, 'a second pass changed the text');
          } finally {
            ws.dispose();
          }
        });
      }

      if (rule.fix !== 'none') {
        it('has a .fixed.py expectation', () => {
          assert.ok(sourceFiles(dir).some((f) => fs.existsSync(f.replace(/\.py$/, '.fixed.py'))), 'no <name>.fixed.py in the folder');
        });
      }

      it('is silenced by its suppression comment on every expected line', () => {
        const ws = loadWorkspace(dir, settings);
        try {
          for (const [file, list] of expectationsOf(dir, rule.code)) {
            const lines = fs.readFileSync(file, 'utf8').split('\n');
            for (const e of list.filter((x) => x.kind === 'ruleid')) lines[e.line] = lines[e.line].replace(/\r$/, '') + suppressionComment(rule.code);
            ws.setFile(file, lines.join('\n'));
          }
          const { findings } = analyzeWorkspace(ws, { onlyRules: [rule.code] });
          const leftover = findings.filter((f) =>
            (expectationsOf(dir, rule.code).get(f.file) ?? []).some((e) => e.kind === 'ruleid' && e.line === f.range.start.line),
          );
          assert.deepEqual(leftover.map((f) => describeFinding(f, dir)), []);
        } finally {
          ws.dispose();
        }
      });
    });
  }
});
