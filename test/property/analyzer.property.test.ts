/**
 * Property tests over mutated Python (issue: robustness). Every fixture and the example app are mutated with a
 * seeded mutator; for each case the analyzer must not throw or let a rule crash, must finish within a time bound,
 * must report ranges inside the document and the same result twice, and every fix must apply cleanly, add no syntax
 * error and remove the finding it fixes. Set PROPERTY_SEED to replay, PROPERTY_CASES to change the count.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { initParser } from '../../server/src/python/parser';
import { analyzeFile } from '../../server/src/core/analyze';
import { applyEdits, LineIndex } from '../../server/src/core/text';
import type { Finding } from '../../server/src/core/types';
import { FIXTURES, REPO_ROOT, listFilesRecursive, loadWorkspace, syntaxErrorCount } from '../support';
import { MUTATIONS, mutate, prng } from './mutator';
import { Workspace } from '../../server/src/workspace/workspace';
import { defaultSettings } from '../../server/src/core/settings';

const CASES = Number(process.env.PROPERTY_CASES ?? 10000);
/**
 * Wall-clock budget for the mutated cases: the run stops early (saying how many cases ran) rather than let a slow
 * machine stretch CI. Set PROPERTY_BUDGET_MS=0 for no budget.
 */
const BUDGET_MS = Number(process.env.PROPERTY_BUDGET_MS ?? 120000);
/** Seeds per large mutation (5 MB lines, 5,000-deep nesting): each case is slow, a sample covers the kinds. */
const BIG_SAMPLE = Number(process.env.PROPERTY_BIG_SAMPLE ?? 6);
const SEED = Number(process.env.PROPERTY_SEED ?? Date.now() % 1_000_000);
const TIME_BOUND_MS = 3000;
const BIG_TIME_BOUND_MS = 20000;

interface Seed {
  dir: string;
  file: string;
  text: string;
}

/** Every Python source under the fixtures and the example app, grouped by its workspace folder. */
function seeds(): Seed[] {
  const roots: string[] = [];
  for (const group of ['rules', 'projects']) {
    const dir = path.join(FIXTURES, group);
    if (fs.existsSync(dir)) for (const d of fs.readdirSync(dir)) roots.push(path.join(dir, d));
  }
  const example = path.join(REPO_ROOT, 'examples', 'todo-api');
  if (fs.existsSync(example)) roots.push(example);
  const out: Seed[] = [];
  for (const dir of roots.filter((d) => fs.statSync(d).isDirectory())) {
    for (const file of listFilesRecursive(dir)) {
      if (file.endsWith('.py') && !file.endsWith('.fixed.py')) out.push({ dir, file, text: fs.readFileSync(file, 'utf8') });
    }
  }
  return out;
}

/** A workspace holding only the seed's file, rooted at its fixture folder (so module names stay the same). */
function workspaceOfFile(seed: Seed): Workspace {
  const ws = new Workspace(seed.dir, () => ({ ...defaultSettings(), includeTests: true }));
  ws.setFile(seed.file, seed.text);
  return ws;
}

function checkRanges(findings: Finding[], text: string): string | undefined {
  const index = new LineIndex(text);
  for (const f of findings) {
    for (const pos of [f.range.start, f.range.end]) {
      if (pos.line < 0 || pos.line >= index.lineCount) return `${f.code} range line ${pos.line} outside 0..${index.lineCount - 1}`;
      if (pos.character < 0 || pos.character > index.lineText(pos.line).length + 1) return `${f.code} range column ${pos.character} outside line ${pos.line}`;
    }
    if (f.range.start.line > f.range.end.line || (f.range.start.line === f.range.end.line && f.range.start.character > f.range.end.character)) {
      return `${f.code} range ends before it starts`;
    }
  }
  return undefined;
}

/** Runs one case; returns a failure description or undefined. */
function runCase(ws: Workspace, seed: Seed, text: string, timeBound: number, checkDeterminism: boolean, checkFixes: boolean): string | undefined {
  ws.setFile(seed.file, text);
  const started = Date.now();
  let result;
  try {
    result = analyzeFile(ws, seed.file);
  } catch (err) {
    return `analyzeFile threw: ${(err as Error).stack}`;
  }
  const elapsed = Date.now() - started;
  if (elapsed > timeBound) return `analysis took ${elapsed} ms (bound ${timeBound} ms)`;
  const crashed = result.notices.find((n) => /^rule \w+ failed/.test(n.message));
  if (crashed) return crashed.message;
  const rangeProblem = checkRanges(result.findings, text);
  if (rangeProblem) return rangeProblem;

  if (checkDeterminism) {
    ws.removeFile(seed.file);
    ws.setFile(seed.file, text);
    const again = analyzeFile(ws, seed.file);
    if (JSON.stringify(again.findings) !== JSON.stringify(result.findings)) return 'analysis is not deterministic';
  }

  if (checkFixes) {
    const errorsBefore = syntaxErrorCount(text);
    for (const finding of result.findings.filter((f) => f.fix && f.fix.edits.length).slice(0, 3)) {
      let fixed: string;
      try {
        fixed = applyEdits(text, finding.fix!.edits);
      } catch (err) {
        return `${finding.code} fix edits overlap: ${(err as Error).message}`;
      }
      const index = new LineIndex(text);
      for (const e of finding.fix!.edits) {
        if (e.range.start.line >= index.lineCount || e.range.end.line >= index.lineCount) return `${finding.code} fix edit outside the document`;
      }
      if (syntaxErrorCount(fixed) > errorsBefore) return `${finding.code} fix "${finding.fix!.title}" adds a syntax error`;
      ws.setFile(seed.file, fixed);
      const after = analyzeFile(ws, seed.file).findings.filter((f) => f.code === finding.code).length;
      const beforeCount = result.findings.filter((f) => f.code === finding.code).length;
      ws.setFile(seed.file, text);
      if (after >= beforeCount) return `${finding.code} fix "${finding.fix!.title}" does not remove the finding`;
    }
  }
  return undefined;
}

before(async () => {
  await initParser();
});

describe('analyzer properties over mutated Python', () => {
  const all = seeds();

  it(`holds for up to ${CASES} mutated cases (seed ${SEED})`, (t) => {
    assert.ok(all.length > 0, 'no seed files found');
    const rand = prng(SEED);
    const workspaces = new Map<string, Workspace>();
    const failures: string[] = [];
    const started = Date.now();
    let ran = 0;
    try {
      for (let i = 0; i < CASES && failures.length < 5; i++) {
        if (BUDGET_MS > 0 && Date.now() - started > BUDGET_MS) break;
        ran++;
        const seed = all[Math.floor(rand() * all.length)];
        // Most cases analyse the mutated file on its own (cheap); every tenth inside its whole fixture workspace, so
        // the cross-file model also sees broken code.
        const crossFile = i % 10 === 0;
        const key = crossFile ? seed.dir : seed.file;
        let ws = workspaces.get(key);
        if (!ws) {
          ws = crossFile ? loadWorkspace(seed.dir) : workspaceOfFile(seed);
          workspaces.set(key, ws);
        }
        const { text, applied } = mutate(seed.text, rand);
        const failure = runCase(ws, seed, text, TIME_BOUND_MS, i % 10 === 0, i % 4 === 0);
        ws.setFile(seed.file, seed.text);
        if (failure) {
          failures.push(`case ${i} (PROPERTY_SEED=${SEED}) ${path.relative(REPO_ROOT, seed.file)} after [${applied.join(', ')}]: ${failure}`);
        }
      }
    } finally {
      for (const ws of workspaces.values()) ws.dispose();
    }
    t.diagnostic(`ran ${ran} of ${CASES} cases in ${Date.now() - started} ms (PROPERTY_SEED=${SEED})`);
    process.stdout.write(`property: ran ${ran} of ${CASES} mutated cases in ${Date.now() - started} ms (PROPERTY_SEED=${SEED})\n`);
    assert.deepEqual(failures, []);
    assert.ok(ran >= Math.min(CASES, 200), `only ${ran} cases ran within the budget`);
  });

  for (const name of ['deepNesting', 'hugeLine', 'deepBlocks', 'bom', 'crlf', 'tabsForSpaces', 'nonAsciiIdentifiers'] as const) {
    it(`survives ${name} on every kind of seed (seed ${SEED})`, () => {
      const rand = prng(SEED + name.length);
      const failures: string[] = [];
      const step = Math.max(1, Math.floor(all.length / BIG_SAMPLE));
      const picked = all.filter((_, i) => i % step === 0).slice(0, BIG_SAMPLE);
      const byDir = new Map<string, Workspace>();
      try {
        for (const seed of picked) {
          let ws = byDir.get(seed.dir);
          if (!ws) {
            ws = loadWorkspace(seed.dir);
            byDir.set(seed.dir, ws);
          }
          const failure = runCase(ws, seed, MUTATIONS[name](seed.text, rand), BIG_TIME_BOUND_MS, false, name !== 'hugeLine');
          ws.setFile(seed.file, seed.text);
          if (failure) failures.push(`${path.relative(REPO_ROOT, seed.file)}: ${failure}`);
          if (failures.length >= 5) break;
        }
      } finally {
        for (const ws of byDir.values()) ws.dispose();
      }
      assert.deepEqual(failures, []);
    });
  }
});
