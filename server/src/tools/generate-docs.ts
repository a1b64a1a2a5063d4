/**
 * Generates the rule reference under docs/rules/ from each rule's own metadata and docs:
 * `node out/server/src/tools/generate-docs.js write` rewrites it; `... check` exits 1 and lists the pages that
 * are missing, stale or left over from a rule that no longer exists. The rendering lives in core/rule-docs.ts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ALL_RULES } from '../rules/index';
import { renderRuleDoc, renderRuleIndex, ruleDocFileName } from '../core/rule-docs';

export interface DocsDiff {
  missing: string[];
  stale: string[];
  extra: string[];
}

/** The pages docs/rules/ should hold, by file name. */
export function expectedDocs(): Map<string, string> {
  const pages = new Map<string, string>();
  for (const rule of ALL_RULES) pages.set(ruleDocFileName(rule), renderRuleDoc(rule));
  pages.set('README.md', renderRuleIndex(ALL_RULES));
  return pages;
}

export function compareDocs(dir: string): DocsDiff {
  const expected = expectedDocs();
  const present = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.md')) : [];
  const diff: DocsDiff = { missing: [], stale: [], extra: [] };
  for (const [name, text] of expected) {
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) diff.missing.push(name);
    else if (fs.readFileSync(file, 'utf8') !== text) diff.stale.push(name);
  }
  diff.extra = present.filter((f) => !expected.has(f)).sort();
  return diff;
}

export function writeDocs(dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const expected = expectedDocs();
  for (const [name, text] of expected) {
    const file = path.join(dir, name);
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) continue;
    fs.writeFileSync(file, text);
    written.push(name);
  }
  for (const stray of fs.readdirSync(dir).filter((f) => f.endsWith('.md') && !expected.has(f))) {
    fs.unlinkSync(path.join(dir, stray));
    written.push(`${stray} (removed)`);
  }
  return written;
}

/** The repository's docs/rules: found from this compiled file's location, else the working directory. */
export function defaultDocsDir(): string {
  for (const start of [__dirname, process.cwd()]) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'server', 'src'))) return path.join(dir, 'docs', 'rules');
      if (path.dirname(dir) === dir) break;
    }
  }
  return path.join(process.cwd(), 'docs', 'rules');
}

function main(argv: string[]): number {
  const mode = argv[0] ?? 'write';
  const dir = argv[1] ? path.resolve(argv[1]) : defaultDocsDir();
  if (mode === 'write') {
    const written = writeDocs(dir);
    process.stdout.write(written.length ? `Updated ${written.length} page(s) in ${dir}:\n${written.map((w) => `  ${w}`).join('\n')}\n` : `${dir} is up to date\n`);
    return 0;
  }
  if (mode === 'check') {
    const diff = compareDocs(dir);
    const problems = [
      ...diff.missing.map((f) => `missing: ${f}`),
      ...diff.stale.map((f) => `out of date: ${f}`),
      ...diff.extra.map((f) => `not generated from any rule: ${f}`),
    ];
    if (problems.length === 0) {
      process.stdout.write(`${dir} is up to date\n`);
      return 0;
    }
    process.stderr.write(`${problems.join('\n')}\nRun \`npm run docs\` to regenerate docs/rules.\n`);
    return 1;
  }
  process.stderr.write('usage: generate-docs [write|check] [DIR]\n');
  return 2;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
