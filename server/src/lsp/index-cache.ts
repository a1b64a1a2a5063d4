/**
 * The language server's persistent index cache, one JSON file per workspace folder in a directory the editor lets
 * the extension write (the client passes `context.storageUri`/`globalStorageUri` as `initializationOptions.cacheDir`).
 * It holds what a start-up recomputes on an unchanged workspace:
 * - per Python file read, the stat it was read with (size, mtime, ctime, inode), its content hash and the decoding
 *   warning its read gave, so that a file whose stat still matches is not read at all (the Workspace reads its
 *   text on first use, see Workspace.setFileLazy);
 * - the analysis results (each analysed file's findings and notices, and the workspace-level checks) for one
 *   workspace state, keyed by the hash of every file's path and content hash, every non-Python file the analysis
 *   reads, the resolved settings of every folder holding files, and the tool's build. Any other state misses.
 * Both halves are only as good as the tool that wrote them: the file records the tool's build fingerprint
 * (package version, Node version, and the size and mtime of every loaded module of the server), and a file with
 * another fingerprint, another root, an unknown format or any malformed field is ignored as a whole, never trusted.
 * Knows nothing of the connection; the caller decides when a workspace state is the one the results belong to.
 */
import * as fs from 'fs';
import * as path from 'path';
import { createHash } from 'crypto';
import type { FileAnalysis } from '../core/analyze';
import type { Finding, Notice, Range } from '../core/types';
import type { Workspace } from '../workspace/workspace';

const FORMAT = 'jwt-api-security/index-cache';
const SCHEMA = 1;
/** A cache file larger than this is not ours to parse (a workspace's index is a few hundred KB). */
const MAX_CACHE_BYTES = 64 * 1024 * 1024;
/**
 * A file modified this close to the moment it was read may change again within the file system's timestamp
 * granularity without its stat changing (git's "racily clean" problem): its facts are not kept.
 */
const RACY_MS = 2000;
/** Results are written this long after the last one came in, so a burst of analyses makes one write. */
const SAVE_DELAY_MS = 1500;

/** What reading a file found; stored with the stat it was read with. */
export interface FileFacts {
  /** The Workspace's content hash of the decoded text. */
  hash: string;
  /** A decoding warning the file's read produced (analysed, but e.g. not written back by fixes). */
  warning?: string;
}

interface StoredFile extends FileFacts {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

interface StoredResults {
  /** The workspace state (workspaceStateKey) the results belong to. */
  state: string;
  /** By absolute path. */
  files: Record<string, FileAnalysis>;
  workspace?: FileAnalysis;
}

interface CacheFile {
  format: typeof FORMAT;
  schema: typeof SCHEMA;
  tool: string;
  root: string;
  /** By path relative to the root. */
  files: Record<string, StoredFile>;
  results?: StoredResults;
}

/** The stat fields a cached entry is checked against. */
export interface FileStat {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

export class IndexCache {
  /** Entries of the last index (those still valid are carried into `next`), by path relative to the root. */
  private files: Map<string, StoredFile>;
  /** Entries of the index in progress. */
  private next: Map<string, StoredFile> | undefined;
  private results: StoredResults | undefined;
  private dirty = false;
  private saveTimer: NodeJS.Timeout | undefined;
  /** Counts of the last index, for the log and the benchmark. */
  readonly stats = { hits: 0, misses: 0 };

  private constructor(
    readonly file: string,
    readonly root: string,
    private readonly tool: string,
    stored: CacheFile | undefined,
    /** Why a cache file present on disk was not used (corrupt, foreign, another build), for the log. */
    readonly rejected: string | undefined,
  ) {
    // A Map, not the parsed object: a few thousand keys are looked up and copied on every index.
    this.files = new Map(stored ? Object.entries(stored.files) : []);
    this.results = stored?.results;
  }

  /** The cache of `root` in `dir`: what a previous run left if it is valid for this build and root, else empty. */
  static open(dir: string, root: string, tool = toolFingerprint()): IndexCache {
    const abs = path.resolve(root);
    const file = path.join(dir, 'index', `${createHash('sha1').update(abs).digest('hex').slice(0, 20)}.json`);
    const { stored, rejected } = readCacheFile(file, abs, tool);
    return new IndexCache(file, abs, tool, stored, rejected);
  }

  // ---- per-file facts ---------------------------------------------------------------------------------------

  /** Starts an index: entries not looked up or recorded before `finishIndex` are dropped (deleted files). */
  beginIndex(): void {
    this.next = new Map();
    this.stats.hits = 0;
    this.stats.misses = 0;
  }

  /** The facts of `file` if it still has the stat they were read with. */
  lookup(file: string, st: FileStat): FileFacts | undefined {
    const key = this.key(file);
    const entry = key === undefined ? undefined : this.files.get(key);
    if (!entry || entry.size !== st.size || entry.mtimeMs !== st.mtimeMs || entry.ctimeMs !== st.ctimeMs || entry.ino !== st.ino) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    this.next?.set(key!, entry);
    return { hash: entry.hash, warning: entry.warning };
  }

  /** Records what reading `file` found; `st` is its stat taken before the read, `readAt` when it was read. */
  record(file: string, st: FileStat, facts: FileFacts, readAt = Date.now()): void {
    const key = this.key(file);
    if (key === undefined || !this.next) return;
    this.dirty = true;
    // Modified just before it was read: a later change could keep the same stat; read it again next time.
    if (readAt - st.mtimeMs < RACY_MS) return;
    const entry: StoredFile = { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, hash: facts.hash };
    if (facts.warning !== undefined) entry.warning = facts.warning;
    this.next.set(key, entry);
  }

  /** Ends an index: the entries seen replace the old ones. `complete` false (cancelled) keeps the old ones too. */
  finishIndex(complete: boolean): void {
    if (!this.next) return;
    if (complete && this.next.size !== this.files.size) this.dirty = true;
    this.files = complete ? this.next : new Map([...this.files, ...this.next]);
    this.next = undefined;
  }

  private key(file: string): string | undefined {
    // The walk hands over absolute paths under the root: a prefix test is enough (path.relative costs more).
    if (file.startsWith(this.root + path.sep) && !file.includes(`${path.sep}..${path.sep}`)) return file.slice(this.root.length + 1);
    const rel = path.relative(this.root, path.resolve(file));
    return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? undefined : rel;
  }

  // ---- analysis results ---------------------------------------------------------------------------------------

  /**
   * Declares the workspace state the results from now on belong to: the stored results survive when they were
   * computed for the same state, else they are dropped. Returns whether they survived.
   */
  useState(state: string): boolean {
    if (this.results?.state === state) return true;
    this.dirty ||= this.results !== undefined;
    this.results = { state, files: {} };
    return false;
  }

  /** The stored analysis of `file` in the declared state. */
  result(file: string): FileAnalysis | undefined {
    return this.results?.files[path.resolve(file)];
  }

  storeResult(file: string, analysis: FileAnalysis): void {
    if (!this.results) return;
    this.results.files[path.resolve(file)] = analysis;
    this.dirty = true;
    this.scheduleSave();
  }

  workspaceResult(): FileAnalysis | undefined {
    return this.results?.workspace;
  }

  storeWorkspaceResult(analysis: FileAnalysis): void {
    if (!this.results) return;
    this.results.workspace = analysis;
    this.dirty = true;
    this.scheduleSave();
  }

  // ---- persistence --------------------------------------------------------------------------------------------

  /** Writes the cache if anything changed since it was read or last written. Never throws; returns an error text. */
  save(): string | undefined {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    if (!this.dirty) return undefined;
    const data: CacheFile = { format: FORMAT, schema: SCHEMA, tool: this.tool, root: this.root, files: Object.fromEntries(this.files) };
    if (this.results) data.results = this.results;
    // Written aside and renamed: a reader (another window on the same folder) never sees half a file.
    const temp = `${this.file}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      fs.writeFileSync(temp, JSON.stringify(data));
      fs.renameSync(temp, this.file);
      this.dirty = false;
      return undefined;
    } catch (err) {
      try {
        fs.rmSync(temp, { force: true });
      } catch {
        // Nothing more to do: the next save tries again.
      }
      return `could not write the index cache ${this.file}: ${(err as Error).message}`;
    }
  }

  /** Saves a little later (results arrive in bursts); the timer does not keep the process alive. */
  scheduleSave(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => this.save(), SAVE_DELAY_MS);
    this.saveTimer.unref?.();
  }
}

/**
 * The hash of everything an analysis result depends on: every Python file's path and content hash, every
 * non-Python file the analysis reads (requirements, pyproject, `.env`, ...), the resolved settings of every folder
 * holding one of those files as `settingsOf` serializes them (editor settings and every pyproject.toml on the way
 * up, inside the root or not), and `extra` (what else the caller's results depend on). Reads no file text.
 */
export function workspaceStateKey(ws: Workspace, settingsOf: (dir: string) => string, extra = ''): string {
  const h = createHash('sha1');
  h.update(`${extra}\n`);
  const dirs = new Set<string>([ws.root]);
  for (const f of ws.allFiles()) {
    h.update(`${f.path}\0${f.hash}\n`);
    dirs.add(path.dirname(f.path));
  }
  for (const file of ws.auxFilePaths()) {
    h.update(`${file}\0${createHash('sha1').update(ws.auxFile(file) ?? '').digest('hex')}\n`);
    dirs.add(path.dirname(file));
  }
  for (const dir of [...dirs].sort()) h.update(`${dir}\0${settingsOf(dir)}\n`);
  return h.digest('hex');
}

let fingerprint: string | undefined;

/**
 * The build of the running tool: package version, Node version, and the size and mtime of every module loaded so
 * far (the bundle when the extension runs it; every compiled module in development), so a rebuilt server never
 * reuses results of another build of its rules.
 */
export function toolFingerprint(version = packageVersion()): string {
  if (fingerprint !== undefined) return fingerprint;
  const h = createHash('sha1');
  h.update(`${version}\n${process.version}\n`);
  for (const file of Object.keys(require.cache).sort()) {
    try {
      const st = fs.statSync(file);
      h.update(`${file}\0${st.size}\0${st.mtimeMs}\n`);
    } catch {
      h.update(`${file}\0missing\n`);
    }
  }
  return (fingerprint = h.digest('hex'));
}

function packageVersion(): string {
  for (let dir = __dirname, i = 0; i < 6; i++, dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'jwt-api-security') return String(pkg.version);
    } catch {
      // Not here: look further up.
    }
  }
  return 'unknown';
}

// ---- reading and validating a cache file ------------------------------------------------------------------------

function readCacheFile(file: string, root: string, tool: string): { stored?: CacheFile; rejected?: string } {
  let text: string;
  try {
    const st = fs.statSync(file);
    if (!st.isFile() || st.size > MAX_CACHE_BYTES) return { rejected: 'not a regular file of a plausible size' };
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? {} : { rejected: `unreadable (${code ?? (err as Error).message})` };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { rejected: 'not JSON' };
  }
  if (!isRecord(data) || data.format !== FORMAT || data.schema !== SCHEMA) return { rejected: 'another format or schema' };
  if (data.tool !== tool) return { rejected: 'written by another build' };
  if (data.root !== root) return { rejected: 'written for another folder' };
  if (!isRecord(data.files) || !Object.values(data.files).every(isStoredFile)) return { rejected: 'malformed file entries' };
  if (data.results !== undefined && !isStoredResults(data.results)) return { rejected: 'malformed results' };
  return { stored: data as unknown as CacheFile };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const isString = (x: unknown): x is string => typeof x === 'string';
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;
const optional = (x: unknown, check: (y: unknown) => boolean) => x === undefined || check(x);

function isStoredFile(x: unknown): boolean {
  return (
    isRecord(x) &&
    isCount(x.size) &&
    isCount(x.mtimeMs) &&
    isCount(x.ctimeMs) &&
    isCount(x.ino) &&
    isString(x.hash) &&
    /^[0-9a-f]{40}$/.test(x.hash) &&
    optional(x.warning, isString)
  );
}

function isStoredResults(x: unknown): boolean {
  return isRecord(x) && isString(x.state) && isRecord(x.files) && Object.values(x.files).every(isFileAnalysis) && optional(x.workspace, isFileAnalysis);
}

function isFileAnalysis(x: unknown): x is FileAnalysis {
  return isRecord(x) && Array.isArray(x.findings) && x.findings.every(isFinding) && Array.isArray(x.notices) && x.notices.every(isNotice);
}

function isRange(x: unknown): x is Range {
  const isPos = (p: unknown) => isRecord(p) && Number.isInteger(p.line) && Number.isInteger(p.character) && (p.line as number) >= 0 && (p.character as number) >= 0;
  return isRecord(x) && isPos(x.start) && isPos(x.end);
}

function isFinding(x: unknown): x is Finding {
  return (
    isRecord(x) &&
    isString(x.code) &&
    isString(x.name) &&
    (x.severity === 'critical' || x.severity === 'warning' || x.severity === 'suggestion') &&
    isString(x.message) &&
    isString(x.file) &&
    isRange(x.range) &&
    optional(
      x.fix,
      (f) =>
        isRecord(f) &&
        isString(f.title) &&
        (f.safety === 'safe' || f.safety === 'unsafe' || f.safety === 'display-only') &&
        Array.isArray(f.edits) &&
        f.edits.every((e) => isRecord(e) && isRange(e.range) && isString(e.newText)),
    ) &&
    Array.isArray(x.related) &&
    x.related.every((r) => isRecord(r) && isString(r.file) && isRange(r.range) && isString(r.message)) &&
    Array.isArray(x.checklist) &&
    x.checklist.every((n) => Number.isInteger(n))
  );
}

function isNotice(x: unknown): x is Notice {
  return isRecord(x) && (x.level === 'error' || x.level === 'warning' || x.level === 'info') && optional(x.file, isString) && isString(x.message);
}

/** The cache directory the client passed (`initializationOptions.cacheDir`): an absolute path, else none. */
export function cacheDirOption(initializationOptions: unknown): string | undefined {
  const dir = isRecord(initializationOptions) ? initializationOptions.cacheDir : undefined;
  return typeof dir === 'string' && dir.length > 0 && path.isAbsolute(dir) ? path.resolve(dir) : undefined;
}
