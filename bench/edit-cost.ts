/**
 * `node out/bench/edit-cost.js [DIR [FILE]]`: what one edit costs the analysis of the edited file in a loaded
 * workspace, in process (no LSP, no debounce): the first analysis of FILE, then one-character edits of FILE, then
 * edits of another file of the workspace (FILE's analysis again after each). Defaults: the generated FastAPI corpus
 * (bench/corpus/fastapi-heavy, made by `npm run bench`) and one of its route modules, where every route of the
 * workspace is one the edited file's rules look at. `npm run bench:lsp` measures the editor scenario over LSP.
 */
import * as fs from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { initParser } from '../server/src/python/parser';
import { analyzeFile } from '../server/src/core/analyze';
import { loadWorkspace, REPO_ROOT } from '../test/support';

const EDITS = Number(process.env.BENCH_EDITS ?? 6);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  await initParser();
  const root = path.resolve(process.argv[2] ?? path.join(REPO_ROOT, 'bench', 'corpus', 'fastapi-heavy'));
  const file = path.resolve(root, process.argv[3] ?? 'service_007/app/api/routes/tasks_0.py');
  const other = path.resolve(root, process.argv[4] ?? 'service_007/app/crud/task.py');
  if (!fs.existsSync(file)) throw new Error(`no ${file} (run npm run bench once to generate the corpus)`);
  const ws = loadWorkspace(root);
  const time = (edit: () => void): number => {
    edit();
    const started = performance.now();
    analyzeFile(ws, file);
    return performance.now() - started;
  };
  const first = time(() => undefined);
  const own = fs.readFileSync(file, 'utf8');
  const ownEdits = Array.from({ length: EDITS }, (_, i) => time(() => ws.setFile(file, i % 2 ? own : `${own}#\n`)));
  const otherText = fs.existsSync(other) ? fs.readFileSync(other, 'utf8') : undefined;
  const otherEdits = otherText === undefined ? [] : Array.from({ length: EDITS }, (_, i) => time(() => ws.setFile(other, i % 2 ? otherText : `${otherText}#\n`)));
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  process.stdout.write(
    [
      `| workspace | files | first analysis of ${path.relative(root, file)} | after an edit of it (median of ${EDITS}) | after an edit of ${otherText === undefined ? 'another file' : path.relative(root, other)} (median) |`,
      '|---|---|---|---|---|',
      `| ${path.basename(root)} | ${ws.allFiles().length} | ${ms(first)} | ${ms(median(ownEdits))} | ${otherEdits.length ? ms(median(otherEdits)) : 'n/a'} |`,
      '',
    ].join('\n'),
  );
  ws.dispose();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
