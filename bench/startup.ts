/**
 * `npm run bench:startup`: the issue's start-up targets, measured on the real server process (the bundle the
 * extension ships, started the way the language client starts it) over LSP.
 *
 * 1. First diagnostics on the example: spawn the server, initialize with examples/todo-api as the workspace folder,
 *    open routes/tasks.py right after `initialized` (as VS Code does for an editor restored at start-up), and time
 *    spawn -> initialize result -> first publishDiagnostics with findings for that file. Each run reports the
 *    server's CPU time at that moment too (/proc, 10 ms ticks), which the shared machine's load inflates far less
 *    than wall time. Runs without a cache, then with a cache directory (first start fills it, later starts use it).
 * 2. Cold versus cached index: the CPython standard library and the generated FastAPI corpus, each copied to a
 *    scratch folder (the repository's .gitignore would hide bench/corpus), indexed by a fresh server with an empty
 *    cache directory (cold) and again with the cache it left (cached): initialize -> `ready` status, the server's
 *    CPU time at ready, and its RSS after indexing. The FastAPI corpus also times the first diagnostics (the first
 *    publish, with or without findings) of one of its route modules, opened after `ready`, cold and cached.
 *
 * Servers with a cache directory get a V8 code cache folder too (`--code-cache-dir`, as the client passes its global
 * storage), filled by one run beforehand, except the example's last mode, which shows what the code cache is worth.
 *
 * Environment: JWT_API_SECURITY_SERVER (server script; default dist/server/server.js), BENCH_RUNS (example runs per
 * mode, default 7), BENCH_INDEX_RUNS (cold/cached index pairs per corpus, default 5), BENCH_PROFILE_DIR (pass --cpu-prof to the server, profiles written there), BENCH_ONLY=example|index.
 */
import { execFileSync, spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { pathToFileURL } from 'url';
import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import type { PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { REPO_ROOT } from '../test/support';
import { CAPABILITIES } from '../test/lsp/harness';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const INDEX_RUNS = Number(process.env.BENCH_INDEX_RUNS ?? 5);
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
const SERVER = path.resolve(process.env.JWT_API_SECURITY_SERVER ?? path.join(REPO_ROOT, 'dist', 'server', 'server.js'));
const CLOCK_TICKS_PER_SECOND = 100;

/** One server process and the moments the bench cares about, in ms since the spawn. */
class TimedServer {
  readonly spawnedAt = performance.now();
  readonly child: ChildProcess;
  readonly connection: ProtocolConnection;
  readonly logs: string[] = [];
  private readonly diagnostics = new Map<string, PublishDiagnosticsParams>();
  private ready = false;
  private readonly waiters: (() => void)[] = [];

  constructor(
    readonly root: string,
    initializationOptions: unknown,
    /** The loader's V8 code cache folder (`--code-cache-dir`, as the client passes it), if any. */
    codeCacheDir?: string,
  ) {
    const execArgv = PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : [];
    const args = codeCacheDir ? [`--code-cache-dir=${codeCacheDir}`] : [];
    this.child = spawn(process.execPath, [...execArgv, SERVER, '--stdio', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', () => undefined);
    this.connection = createProtocolConnection(new StreamMessageReader(this.child.stdout!), new StreamMessageWriter(this.child.stdin!));
    this.connection.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      this.diagnostics.set(p.uri, p);
      this.notify();
    });
    this.connection.onNotification('jwtApiSecurity/status', (p: { state: string }) => {
      if (p.state === 'ready') this.ready = true;
      this.notify();
    });
    this.connection.onNotification('window/logMessage', (p: { message: string }) => this.logs.push(p.message));
    this.connection.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => ({})));
    this.connection.onRequest('client/registerCapability', () => null);
    this.connection.onRequest('window/workDoneProgress/create', () => null);
    this.connection.listen();
    this.initialized = this.connection
      .sendRequest('initialize', {
        processId: process.pid,
        rootUri: pathToFileURL(root).toString(),
        workspaceFolders: [{ uri: pathToFileURL(root).toString(), name: path.basename(root) }],
        capabilities: CAPABILITIES,
        initializationOptions,
      })
      .then(async () => {
        const at = this.elapsed();
        await this.connection.sendNotification('initialized', {});
        return at;
      });
  }

  /** Resolves with the ms from spawn to the initialize result. */
  readonly initialized: Promise<number>;

  elapsed(): number {
    return performance.now() - this.spawnedAt;
  }

  open(file: string): void {
    void this.connection.sendNotification('textDocument/didOpen', {
      textDocument: { uri: pathToFileURL(file).toString(), languageId: 'python', version: 1, text: fs.readFileSync(file, 'utf8') },
    });
  }

  /** Ms from spawn until `file` has diagnostics published, with at least `atLeast` entries. */
  firstDiagnostics(file: string, atLeast: number, timeoutMs: number): Promise<number> {
    const uri = pathToFileURL(file).toString();
    return this.until(`diagnostics of ${path.basename(file)}`, () => (this.diagnostics.get(uri)?.diagnostics.length ?? -1) >= atLeast, timeoutMs);
  }

  /** Ms from spawn until the server reports its index ready. */
  indexed(timeoutMs: number): Promise<number> {
    return this.until('the ready status', () => this.ready, timeoutMs);
  }

  /** User + system CPU of the server so far, in ms (10 ms resolution). */
  cpuMs(): number {
    const stat = fs.readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  }

  rssMb(): number {
    const status = fs.readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    try {
      await this.connection.sendRequest('shutdown');
      await this.connection.sendNotification('exit');
    } catch {
      this.child.kill('SIGKILL');
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(timer);
    this.connection.dispose();
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async until(what: string, probe: () => boolean, timeoutMs: number): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    while (!probe()) {
      if (this.child.exitCode !== null) throw new Error(`server exited while waiting for ${what}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.elapsed();
  }
}

interface ExampleRun {
  initMs: number;
  firstMs: number;
  cpuMs: number;
}

async function exampleRun(root: string, file: string, cacheDir: string | undefined, codeCacheDir?: string): Promise<ExampleRun> {
  const server = new TimedServer(root, cacheDir ? { cacheDir } : undefined, codeCacheDir);
  try {
    const initMs = await server.initialized;
    server.open(file);
    const firstMs = await server.firstDiagnostics(file, 1, 60000);
    return { initMs, firstMs, cpuMs: server.cpuMs() };
  } finally {
    await server.stop();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function summarize(label: string, runs: ExampleRun[]): string {
  const col = (pick: (r: ExampleRun) => number) => `${median(runs.map(pick)).toFixed(0)} (${Math.min(...runs.map(pick)).toFixed(0)}–${Math.max(...runs.map(pick)).toFixed(0)})`;
  return `| ${label} | ${runs.length} | ${col((r) => r.initMs)} | ${col((r) => r.firstMs - r.initMs)} | ${col((r) => r.firstMs)} | ${col((r) => r.cpuMs)} |`;
}

async function benchExample(scratch: string): Promise<string[]> {
  const root = path.join(REPO_ROOT, 'examples', 'todo-api');
  const file = path.join(root, 'routes', 'tasks.py');
  const cacheDir = path.join(scratch, 'example-cache');
  const codeCacheDir = await warmCodeCache(scratch);
  const uncached: ExampleRun[] = [];
  const filling: ExampleRun[] = [];
  const cached: ExampleRun[] = [];
  const noCodeCache: ExampleRun[] = [];
  // Interleaved, so load spikes on the shared machine hit every mode alike.
  for (let i = 0; i < RUNS; i++) {
    uncached.push(await exampleRun(root, file, undefined));
    fs.rmSync(cacheDir, { recursive: true, force: true });
    filling.push(await exampleRun(root, file, cacheDir, codeCacheDir));
    cached.push(await exampleRun(root, file, cacheDir, codeCacheDir));
    noCodeCache.push(await exampleRun(root, file, cacheDir));
  }
  return [
    `First diagnostics on examples/todo-api (routes/tasks.py opened after \`initialized\`), ms, median (min–max):`,
    '',
    '| mode | runs | spawn → initialize result | initialize result → first findings | spawn → first findings | server CPU at first findings |',
    '|---|---|---|---|---|---|',
    summarize('no caches (the extension\'s first start)', uncached),
    summarize('code cache, empty index cache (a workspace opened for the first time; fills it)', filling),
    summarize('code cache and index cache of the previous start (a workspace reopened)', cached),
    summarize('index cache of the previous start, no code cache', noCodeCache),
  ];
}

/** Copies the .py files (and the files the analysis reads besides) of `from` to `to`; returns files and lines. */
function copyTree(from: string, to: string): { files: number; lines: number } {
  let files = 0;
  let lines = 0;
  const visit = (src: string, dest: string) => {
    for (const e of fs.readdirSync(src, { withFileTypes: true })) {
      if (e.name === 'site-packages' || e.name === '__pycache__') continue;
      const s = path.join(src, e.name);
      if (e.isDirectory()) visit(s, path.join(dest, e.name));
      else if (e.isFile() && (e.name.endsWith('.py') || /^(requirements.*\.txt|pyproject\.toml)$/.test(e.name))) {
        fs.mkdirSync(dest, { recursive: true });
        const text = fs.readFileSync(s);
        fs.writeFileSync(path.join(dest, e.name), text);
        // Copied files keep the source's times: a file modified within two seconds of its read is not cached (the
        // index cache's racy-clean rule), and a fresh copy indexed at once would be all such files.
        const st = fs.statSync(s);
        fs.utimesSync(path.join(dest, e.name), st.atime, st.mtime);
        files++;
        for (const b of text) if (b === 10) lines++;
      }
    }
  };
  visit(from, to);
  return { files, lines };
}

/**
 * A code cache folder the loader has filled (as the extension's global storage holds after its first start): one
 * server run on the example, until the loader has written its cache file. Undefined when the server under test
 * has no loader (a development build).
 */
async function warmCodeCache(scratch: string): Promise<string | undefined> {
  const dir = path.join(scratch, 'code-cache');
  if (fs.existsSync(dir) && fs.readdirSync(dir).some((f) => f.endsWith('.bin'))) return dir;
  const root = path.join(REPO_ROOT, 'examples', 'todo-api');
  const file = path.join(root, 'routes', 'tasks.py');
  const server = new TimedServer(root, undefined, dir);
  try {
    await server.initialized;
    server.open(file);
    await server.firstDiagnostics(file, 1, 60000);
    const deadline = performance.now() + 10000;
    while (performance.now() < deadline) {
      if (fs.existsSync(dir) && fs.readdirSync(dir).some((f) => f.endsWith('.bin'))) return dir;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return undefined;
  } finally {
    await server.stop();
  }
}

interface IndexRun {
  readyMs: number;
  /** Server CPU from the initialize result to `ready`: the index itself, without module loading and WASM set-up. */
  indexCpuMs: number;
  cpuMs: number;
  rssMb: number;
  firstMs?: number;
  firstCpuMs?: number;
}

async function indexRun(root: string, cacheDir: string | undefined, open: string | undefined, codeCacheDir: string | undefined): Promise<IndexRun> {
  const server = new TimedServer(root, cacheDir ? { cacheDir } : undefined, codeCacheDir);
  try {
    const initMs = await server.initialized;
    const cpuAtInit = server.cpuMs();
    const readyMs = (await server.indexed(30 * 60 * 1000)) - initMs;
    const cpuMs = server.cpuMs();
    const run: IndexRun = { readyMs, indexCpuMs: cpuMs - cpuAtInit, cpuMs, rssMb: server.rssMb() };
    if (open) {
      const before = performance.now();
      const cpuBefore = server.cpuMs();
      server.open(open);
      await server.firstDiagnostics(open, 0, 10 * 60 * 1000);
      run.firstMs = performance.now() - before;
      run.firstCpuMs = server.cpuMs() - cpuBefore;
    }
    return run;
  } finally {
    await server.stop();
  }
}

async function benchIndex(scratch: string): Promise<string[]> {
  const stdlib = execFileSync('python3', ['-c', "import sysconfig; print(sysconfig.get_paths()['stdlib'])"], { encoding: 'utf8' }).trim();
  const generated = path.join(REPO_ROOT, 'bench', 'corpus', 'fastapi-heavy');
  const corpora: { name: string; src: string; open?: (root: string) => string | undefined }[] = [
    { name: 'CPython stdlib', src: stdlib },
    { name: 'generated FastAPI', src: generated, open: (root) => firstRouteModule(root) },
  ];
  const codeCacheDir = await warmCodeCache(scratch);
  const lines = [
    `Cold versus cached index (initialize result → \`ready\`), ms; server CPU (10 ms ticks) and RSS at \`ready\`${codeCacheDir ? '; every run with the code cache' : ''}:`,
    '',
    '| corpus | files | lines | mode | initialize result → ready | server CPU initialize result → ready | server CPU at ready | RSS at ready (MB) | open → first diagnostics (server CPU) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const corpus of corpora) {
    if (!fs.existsSync(corpus.src)) {
      lines.push(`| ${corpus.name} | — | — | not found: ${corpus.src} | | | | | |`);
      continue;
    }
    const root = path.join(scratch, corpus.name.replace(/\W+/g, '-'));
    const { files, lines: count } = copyTree(corpus.src, root);
    const open = corpus.open?.(root);
    const cacheDir = path.join(scratch, `${path.basename(root)}-cache`);
    // Cold and cached alternate INDEX_RUNS times (medians reported); the route module is opened in the first pair only.
    const none = await indexRun(root, undefined, open, codeCacheDir);
    const colds: IndexRun[] = [];
    const cacheds: IndexRun[] = [];
    for (let i = 0; i < INDEX_RUNS; i++) {
      fs.rmSync(cacheDir, { recursive: true, force: true });
      colds.push(await indexRun(root, cacheDir, i === 0 ? open : undefined, codeCacheDir));
      cacheds.push(await indexRun(root, cacheDir, i === 0 ? open : undefined, codeCacheDir));
    }
    const med = (runs: IndexRun[]): IndexRun => ({
      readyMs: median(runs.map((r) => r.readyMs)),
      indexCpuMs: median(runs.map((r) => r.indexCpuMs)),
      cpuMs: median(runs.map((r) => r.cpuMs)),
      rssMb: median(runs.map((r) => r.rssMb)),
      firstMs: runs[0].firstMs,
      firstCpuMs: runs[0].firstCpuMs,
    });
    const cold = med(colds);
    const cachedRun = med(cacheds);
    const rows: [string, IndexRun][] = [
      ['no cache directory', none],
      [`cold (empty cache directory)${INDEX_RUNS > 1 ? `, median of ${INDEX_RUNS}` : ''}`, cold],
      [`cached (unchanged workspace)${INDEX_RUNS > 1 ? `, median of ${INDEX_RUNS}` : ''}`, cachedRun],
    ];
    for (const [mode, r] of rows) {
      const first = r.firstMs === undefined ? '—' : `${r.firstMs.toFixed(0)} (${r.firstCpuMs!.toFixed(0)})`;
      lines.push(`| ${corpus.name} | ${files.toLocaleString('en')} | ${count.toLocaleString('en')} | ${mode} | ${r.readyMs.toFixed(0)} | ${r.indexCpuMs.toFixed(0)} | ${r.cpuMs.toFixed(0)} | ${r.rssMb.toFixed(0)} | ${first} |`);
    }
    const perPair = colds.map((c, i) => pct(cacheds[i].indexCpuMs, c.indexCpuMs)).join(', ');
    lines.push(
      `| ${corpus.name} | | | cached ÷ cold (of the medians; CPU per pair: ${perPair}) | ${pct(cachedRun.readyMs, cold.readyMs)} | ${pct(cachedRun.indexCpuMs, cold.indexCpuMs)} | ${pct(cachedRun.cpuMs, cold.cpuMs)} | | ${cachedRun.firstMs === undefined ? '—' : `${pct(cachedRun.firstMs, cold.firstMs!)} (${pct(cachedRun.firstCpuMs!, cold.firstCpuMs!)})`} |`,
    );
  }
  return lines;
}

function pct(a: number, b: number): string {
  if (!(b > 0)) return '—';
  const p = (a / b) * 100;
  return `${p < 1 ? p.toFixed(2) : p.toFixed(0)}%`;
}

/** A module of the generated corpus that declares routes (the first in path order), to open in the editor. */
function firstRouteModule(root: string): string | undefined {
  const stack = [root];
  const found: string[] = [];
  while (stack.length) {
    const dir = stack.pop()!;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) stack.push(full);
      else if (e.name.endsWith('.py') && /@router\.(get|post|put|delete)/.test(fs.readFileSync(full, 'utf8'))) found.push(full);
    }
  }
  return found.sort()[0];
}

async function main(): Promise<void> {
  if (!fs.existsSync(SERVER)) throw new Error(`no server at ${SERVER} (npm run build:bundle, or set JWT_API_SECURITY_SERVER)`);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'jwt-api-security-startup-'));
  const only = process.env.BENCH_ONLY;
  const out = [`Server: ${path.relative(REPO_ROOT, SERVER) || SERVER}; Node ${process.version}; ${os.cpus().length} cores; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`, ''];
  try {
    if (only !== 'index') out.push(...(await benchExample(scratch)), '');
    if (only !== 'example') out.push(...(await benchIndex(scratch)), '');
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  out.push(`load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(out.join('\n'));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
