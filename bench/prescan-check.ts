/**
 * `node out/bench/prescan-check.js DIR...`: the audit of each folder with and without the rules' prescans must be
 * identical (findings, notices and checklist); prints how many files each run parsed and how long it took.
 * A development tool for writing prescans on real code (the unit test does the same on the fixtures).
 * `--counts DIR...` prints instead, for each rule, how many files its prescan lets through.
 */
import * as fs from 'fs';
import * as path from 'path';
import { initParser } from '../server/src/python/parser';
import { audit } from '../server/src/core/audit';
import { defaultSettings } from '../server/src/core/settings';
import { walk } from '../server/src/core/discover';
import { Workspace } from '../server/src/workspace/workspace';
import { RULES } from '../server/src/rules/index';
import { mayReport } from '../server/src/rules/rule';

function load(dir: string): Workspace {
  const settings = { ...defaultSettings(), includeTests: true };
  const ws = new Workspace(path.resolve(dir), () => settings);
  for (const file of walk([dir], { respectGitignore: false }).files) ws.setFile(file.path, fs.readFileSync(file.path, 'utf8'));
  return ws;
}

function run(dir: string, noPrescan: boolean): { json: string; parsed: number; files: number; ms: number } {
  const ws = load(dir);
  const t0 = performance.now();
  try {
    const result = audit(ws, { noPrescan });
    return { json: JSON.stringify(result), parsed: ws.modelsBuilt, files: ws.allFiles().length, ms: performance.now() - t0 };
  } finally {
    ws.dispose();
  }
}

/** For each rule, how many files its prescan lets through (the files it would parse and check). */
function passCounts(dir: string): string {
  const ws = load(dir);
  try {
    const files = ws.allFiles();
    return RULES.map((r) => `${r.code} ${r.prescan ? files.filter((f) => mayReport(r, f, ws)).length : 'all'}`).join(', ');
  } finally {
    ws.dispose();
  }
}

async function main(): Promise<void> {
  await initParser();
  let failed = false;
  const args = process.argv.slice(2);
  const countsOnly = args[0] === '--counts';
  for (const dir of countsOnly ? args.slice(1) : args) {
    if (countsOnly) {
      console.log(`${dir}: ${passCounts(dir)}`);
      continue;
    }
    const fast = run(dir, false);
    const full = run(dir, true);
    const same = fast.json === full.json;
    failed ||= !same;
    console.log(`${same ? 'same     ' : 'DIFFERENT'} ${dir}: ${fast.files} files; with prescans ${fast.parsed} parsed in ${fast.ms.toFixed(0)} ms, without ${full.parsed} parsed in ${full.ms.toFixed(0)} ms`);
    if (!same) {
      const a = JSON.parse(fast.json);
      const b = JSON.parse(full.json);
      const key = (f: { code: string; file: string; range: { start: { line: number } } }) => `${f.code} ${f.file}:${f.range.start.line + 1}`;
      const ka = new Set<string>(a.findings.map(key));
      const kb = new Set<string>(b.findings.map(key));
      for (const k of kb) if (!ka.has(k)) console.log(`  missed with prescans: ${k}`);
      for (const k of ka) if (!kb.has(k)) console.log(`  only with prescans:   ${k}`);
      if (ka.size === kb.size && [...ka].every((k) => kb.has(k))) console.log('  findings agree; the checklist, notices or details differ');
    }
  }
  process.exitCode = failed ? 1 : 0;
}

void main();
