/**
 * `npm run bench:lsp`: the editor's latency, measured on the real server process over LSP. An indexed workspace of
 * about 800k lines (the CPython standard library plus a FastAPI app holding a generated 3,000-line module) is
 * opened; 200 one-character edits are typed into the large module, each waiting for its diagnostics. Reports
 * p50/p95/max of didChange -> publishDiagnostics with the server's typing debounce subtracted (and the debounce
 * itself), the time to index, and the server's resident memory after indexing and after the edits.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { generatedModule } from '../test/lsp/generate';
import { BUNDLED_SERVER, COMPILED_SERVER, LspTestClient } from '../test/lsp/harness';

/** Must match TYPING_DEBOUNCE_MS in server/src/lsp/server.ts. */
const TYPING_DEBOUNCE_MS = Number(process.env.BENCH_DEBOUNCE_MS ?? 200);
const EDITS = Number(process.env.BENCH_EDITS ?? 200);
/**
 * The first analysis of the large module builds every cross-file index over the whole standard library copy, and
 * on a loaded machine one edit can take many seconds: generous limits, so a slow run still completes and reports.
 */
const FIRST_DIAGNOSTICS_TIMEOUT_MS = Number(process.env.BENCH_FIRST_TIMEOUT_MS ?? 30 * 60 * 1000);
const EDIT_TIMEOUT_MS = Number(process.env.BENCH_EDIT_TIMEOUT_MS ?? 10 * 60 * 1000);

function progress(message: string): void {
  if (process.env.BENCH_QUIET !== '1') process.stderr.write(`bench:lsp: ${message}\n`);
}

function rssMb(pid: number | undefined): number {
  if (!pid) return NaN;
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function copyStdlib(dest: string): number {
  const stdlib = execFileSync('python3', ['-c', "import sysconfig; print(sysconfig.get_paths()['stdlib'])"], { encoding: 'utf8' }).trim();
  let lines = 0;
  const visit = (from: string, to: string) => {
    for (const e of fs.readdirSync(from, { withFileTypes: true })) {
      if (e.name === 'site-packages' || e.name === '__pycache__') continue;
      const src = path.join(from, e.name);
      if (e.isDirectory()) visit(src, path.join(to, e.name));
      else if (e.isFile() && e.name.endsWith('.py')) {
        fs.mkdirSync(to, { recursive: true });
        const text = fs.readFileSync(src, 'utf8');
        lines += text.split('\n').length;
        fs.writeFileSync(path.join(to, e.name), text);
      }
    }
  };
  visit(stdlib, dest);
  return lines;
}

export async function measureLspLatency(): Promise<string> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'jwt-api-security-lsp-bench-'));
  try {
    const stdlibLines = copyStdlib(path.join(root, 'stdlib'));
    const app = path.join(root, 'app');
    fs.mkdirSync(app, { recursive: true });
    const big = path.join(app, 'items.py');
    fs.writeFileSync(big, generatedModule(3000));
    fs.writeFileSync(path.join(app, '__init__.py'), '');
    // An explicit server wins; else the bundle when it is at least as new as the server compiled with this file.
    const bundleFresh = fs.existsSync(BUNDLED_SERVER) && (!fs.existsSync(COMPILED_SERVER) || fs.statSync(BUNDLED_SERVER).mtimeMs >= fs.statSync(COMPILED_SERVER).mtimeMs);
    const serverPath = process.env.JWT_API_SECURITY_SERVER ?? (bundleFresh ? BUNDLED_SERVER : COMPILED_SERVER);

    const t0 = performance.now();
    const client = await LspTestClient.start({ root, serverPath });
    try {
      await client.ready(30 * 60 * 1000);
      const indexMs = performance.now() - t0;
      const rssIndexed = rssMb(client.process.pid);
      progress(`indexed in ${(indexMs / 1000).toFixed(1)} s, RSS ${rssIndexed.toFixed(0)} MB; opening the 3,000-line module`);
      const t1 = performance.now();
      client.open(big);
      await client.diagnosticsFor(big, () => true, FIRST_DIAGNOSTICS_TIMEOUT_MS);
      const firstMs = performance.now() - t1;
      progress(`first diagnostics after ${(firstMs / 1000).toFixed(1)} s; typing ${EDITS} edits`);

      const latencies: number[] = [];
      const lines = client.text(big).split('\n');
      const line = lines.findIndex((l) => l.trim().startsWith('return'));
      for (let i = 0; i < EDITS; i++) {
        // Alternately type and delete one character at the end of a line, so the text stays valid.
        const character = client.text(big).split('\n')[line].length;
        const change =
          i % 2 === 0
            ? { range: { start: { line, character }, end: { line, character } }, text: ' ' }
            : { range: { start: { line, character: character - 1 }, end: { line, character } }, text: '' };
        const started = performance.now();
        client.change(big, [change]);
        await client.diagnosticsFor(big, () => true, EDIT_TIMEOUT_MS);
        latencies.push(performance.now() - started - TYPING_DEBOUNCE_MS);
        if ((i + 1) % 10 === 0 || i === 0) progress(`${i + 1}/${EDITS} edits, last ${latencies[latencies.length - 1].toFixed(0)} ms`);
      }
      const rssAfter = rssMb(client.process.pid);
      const f = (ms: number) => `${ms.toFixed(1)} ms`;
      return `## Editor latency (real server over LSP, ${path.basename(serverPath)})

Workspace: CPython standard library copy (${stdlibLines.toLocaleString('en-US')} lines) + a FastAPI app with a generated
3,000-line module; ${EDITS} one-character edits typed into that module, each awaited.

| measure | value |
|---|---|
| start to index ready | ${(indexMs / 1000).toFixed(2)} s |
| open of the 3,000-line module to its first diagnostics (every index built) | ${(firstMs / 1000).toFixed(2)} s |
| typing debounce (excluded below) | ${TYPING_DEBOUNCE_MS} ms |
| didChange -> publishDiagnostics p50 | ${f(percentile(latencies, 50))} |
| didChange -> publishDiagnostics p95 | ${f(percentile(latencies, 95))} |
| didChange -> publishDiagnostics max | ${f(Math.max(...latencies))} |
| server RSS after indexing | ${rssIndexed.toFixed(0)} MB |
| server RSS after the edits | ${rssAfter.toFixed(0)} MB |
`;
    } finally {
      await client.shutdown().catch(() => client.kill());
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

if (require.main === module) {
  measureLspLatency().then(
    (table) => {
      process.stdout.write(table);
      let root = __dirname;
      while (!fs.existsSync(path.join(root, 'package.json')) && path.dirname(root) !== root) root = path.dirname(root);
      const results = path.join(root, 'bench', 'lsp-results.md');
      fs.writeFileSync(results, table);
    },
    (err) => {
      process.stderr.write(`bench:lsp failed: ${(err as Error).stack}\n`);
      process.exit(1);
    },
  );
}
