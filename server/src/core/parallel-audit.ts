/**
 * The workspace audit on several threads: `worker_threads`, one tree-sitter parser per worker, each worker holding
 * the whole workspace's texts (so cross-file facts are computed as in a single-threaded run) and analysing the files
 * it pulls from a shared queue. Per-file results are put back in the workspace's file order before the same sort
 * and the same summary `audit()` uses, so the result is identical to `audit(ws)`. Owns only the threading; knows
 * nothing of argv or output formats. Settings cross the thread boundary as data: they are resolved per folder
 * (what ConfigResolver and the editor's settings do), not through the workspace's resolver function.
 */
import * as os from 'os';
import * as path from 'path';
import { isMainThread, parentPort, Worker, workerData } from 'worker_threads';
import { analyzeFile, analyzeWorkspaceLevel, type AnalyzeOptions, type FileAnalysis } from './analyze';
import { audit, summarizeAudit, type AuditOptions, type AuditResult } from './audit';
import { compareFindings, type Finding, type Notice } from './types';
import type { Settings } from './settings';
import { initParser } from '../python/parser';
import { Workspace } from '../workspace/workspace';

export interface ParallelAuditOptions extends AuditOptions {
  /**
   * Threads to use; default 1, which runs `audit()` in this thread. Each worker still computes the workspace-wide
   * indexes itself, so on this codebase's measurements (bench/results.md) N workers cost more CPU and, on two
   * cores, more wall time than one thread: opt in until workers share compact cross-file summaries.
   */
  jobs?: number;
  /** Workspaces with fewer Python files than this stay single-threaded (starting workers costs ~0.2 s each). */
  minFiles?: number;
  /** Files a worker takes per request (default 8); the tests use 1 to spread small workspaces over the workers. */
  chunkSize?: number;
}

/** What a worker needs to rebuild the workspace. Plain data (structured clone). */
interface WorkerInput {
  marker: typeof WORKER_MARKER;
  root: string;
  files: { path: string; text: string }[];
  aux: { path: string; text: string }[];
  /** Settings by absolute file path, and by folder for any other path a rule asks about. */
  byFile: [string, Settings][];
  byDir: [string, Settings][];
  rootSettings: Settings;
  options: AnalyzeOptions;
}

type ToWorker = { kind: 'files'; indexes: number[] } | { kind: 'done' };
type FromWorker =
  | { kind: 'ready' }
  | { kind: 'results'; results: { index: number; analysis: FileAnalysis }[] }
  | { kind: 'failed'; message: string };

const WORKER_MARKER = 'jwt-api-security/parallel-audit';
/** Files a worker takes per request: small enough to balance uneven files, large enough to keep messages rare. */
const CHUNK = 8;
const DEFAULT_MIN_FILES = 200;

export function defaultJobs(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length || 1;
}

/**
 * Audits the workspace on `jobs` threads; the result equals `audit(ws)`. Falls back to `audit(ws)` for one job,
 * a small workspace, or when workers cannot be started (e.g. a bundled build without its own file).
 */
export async function parallelAudit(ws: Workspace, options: ParallelAuditOptions = {}): Promise<AuditResult> {
  const jobs = Math.max(1, Math.floor(options.jobs ?? 1));
  const files = ws.allFiles();
  if (jobs === 1 || files.length < (options.minFiles ?? DEFAULT_MIN_FILES)) return audit(ws, options);
  const analyzeOptions: AnalyzeOptions = { reportUnusedSuppressions: true };
  const chunk = Math.max(1, Math.floor(options.chunkSize ?? CHUNK));
  const perFile = await analyzeInWorkers(ws, Math.min(jobs, Math.ceil(files.length / chunk)), chunk, analyzeOptions, options);
  if (!perFile) return audit(ws, options);
  // The same concatenation and sort as analyzeWorkspace: per-file results in file order, then the workspace level.
  const findings: Finding[] = [];
  const notices: Notice[] = [];
  for (const r of perFile) {
    findings.push(...r.findings);
    notices.push(...r.notices);
  }
  const level = analyzeWorkspaceLevel(ws, analyzeOptions);
  findings.push(...level.findings);
  notices.push(...level.notices);
  options.onProgress?.(files.length, files.length);
  return summarizeAudit(ws, findings.sort(compareFindings), notices);
}

function workerInput(ws: Workspace, options: AnalyzeOptions): WorkerInput {
  const files = ws.allFiles().map((f) => ({ path: f.path, text: f.text }));
  const aux = ws.auxFilePaths().map((p) => ({ path: p, text: ws.auxFile(p) ?? '' }));
  const byFile = new Map<string, Settings>();
  const byDir = new Map<string, Settings>();
  for (const p of [...files.map((f) => f.path), ...aux.map((a) => a.path)]) {
    byFile.set(p, ws.settingsFor(p));
    const dir = path.dirname(p);
    if (!byDir.has(dir)) byDir.set(dir, ws.settingsFor(path.join(dir, '__init__.py')));
  }
  const rootSettings = ws.settingsFor(path.join(ws.root, 'pyproject.toml'));
  return { marker: WORKER_MARKER, root: ws.root, files, aux, byFile: [...byFile], byDir: [...byDir], rootSettings, options };
}

/** Per-file analyses in file order, or undefined when the workers could not do the job (the caller runs serially). */
async function analyzeInWorkers(ws: Workspace, jobs: number, chunk: number, analyzeOptions: AnalyzeOptions, options: AuditOptions): Promise<FileAnalysis[] | undefined> {
  const input = workerInput(ws, analyzeOptions);
  const total = input.files.length;
  const results: (FileAnalysis | undefined)[] = new Array(total);
  let next = 0;
  let done = 0;
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let finished = 0;
      const feed = (w: Worker) => {
        if (next >= total || options.isCancelled?.()) {
          w.postMessage({ kind: 'done' } satisfies ToWorker);
          return;
        }
        const indexes: number[] = [];
        for (let i = 0; i < chunk && next < total; i++) indexes.push(next++);
        w.postMessage({ kind: 'files', indexes } satisfies ToWorker);
      };
      for (let j = 0; j < jobs; j++) {
        const w = new Worker(__filename, { workerData: input });
        workers.push(w);
        w.on('message', (msg: FromWorker) => {
          if (msg.kind === 'failed') return reject(new Error(msg.message));
          if (msg.kind === 'results') {
            for (const r of msg.results) results[r.index] = r.analysis;
            done += msg.results.length;
            options.onProgress?.(done, total);
          }
          feed(w);
        });
        w.on('error', reject);
        w.on('exit', (code) => {
          if (code !== 0) reject(new Error(`audit worker exited with code ${code}`));
          else if (++finished === jobs) resolve();
        });
      }
    });
  } catch {
    return undefined;
  } finally {
    for (const w of workers) void w.terminate();
  }
  // A cancelled audit returns what it has, as audit() would.
  return results.filter((r): r is FileAnalysis => r !== undefined);
}

// ---- worker side ------------------------------------------------------------------------------

async function runWorker(input: WorkerInput): Promise<void> {
  const port = parentPort!;
  try {
    await initParser();
    const byFile = new Map(input.byFile);
    const byDir = new Map(input.byDir);
    const settingsFor = (file: string) => {
      const abs = path.resolve(file);
      return byFile.get(abs) ?? byDir.get(path.dirname(abs)) ?? input.rootSettings;
    };
    const ws = new Workspace(input.root, settingsFor);
    for (const a of input.aux) ws.setFile(a.path, a.text);
    for (const f of input.files) ws.setFile(f.path, f.text);
    port.on('message', (msg: ToWorker) => {
      if (msg.kind === 'done') {
        ws.dispose();
        port.close();
        return;
      }
      try {
        const results = msg.indexes.map((index) => ({ index, analysis: analyzeFile(ws, input.files[index].path, input.options) }));
        port.postMessage({ kind: 'results', results } satisfies FromWorker);
      } catch (err) {
        port.postMessage({ kind: 'failed', message: (err as Error).message } satisfies FromWorker);
      }
    });
    port.postMessage({ kind: 'ready' } satisfies FromWorker);
  } catch (err) {
    port.postMessage({ kind: 'failed', message: (err as Error).message } satisfies FromWorker);
  }
}

if (!isMainThread && (workerData as WorkerInput | undefined)?.marker === WORKER_MARKER) void runWorker(workerData as WorkerInput);
