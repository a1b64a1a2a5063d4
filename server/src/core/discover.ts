/**
 * Finds the files an audit reads under the paths it is given: Python sources, plus the non-Python files the
 * analysis consults (requirements*.txt, pyproject.toml, uv.lock, poetry.lock, Pipfile.lock, .env*, .gitignore).
 * Respects .gitignore files (those of the walked folders and of their ancestors up to the repository root) and
 * the configured `exclude` globs; skips virtual environments, caches and VCS folders; reads each file once with
 * the size limit and decoding policy of source-text.ts. Every problem with the input (unreadable, deleted during
 * the run, binary, too large, a symlink loop) becomes a notice; nothing here throws for the user's files.
 * Knows nothing of rules, argv or output formats.
 */
import * as fs from 'fs';
import * as path from 'path';
import ignore, { type Ignore } from 'ignore';
import { decodeSource, type DecodedSource } from './source-text';
import type { Notice } from './types';

/** Folders never walked into (unless given explicitly), besides any folder holding a `pyvenv.cfg`. */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set([
  '.git',
  '.hg',
  '.svn',
  'node_modules',
  '.venv',
  'venv',
  '__pycache__',
  '.tox',
  '.nox',
  '.mypy_cache',
  '.pytest_cache',
  '.ruff_cache',
  'site-packages',
]);

const AUX_FILE = /^(requirements[^/\\]*\.txt|pyproject\.toml|uv\.lock|poetry\.lock|Pipfile\.lock|\.env(\..*)?|\.gitignore)$/;

export type FileKind = 'python' | 'aux';

export function fileKind(file: string): FileKind | undefined {
  const base = path.basename(file);
  if (base.endsWith('.py')) return 'python';
  return AUX_FILE.test(base) ? 'aux' : undefined;
}

export interface WalkOptions {
  /** The configured `exclude` patterns (gitignore syntax) for files in `dir`, and the folder they are relative to. */
  excludeFor?: (dir: string) => { patterns: readonly string[]; baseDir: string };
  /** Default true. */
  respectGitignore?: boolean;
  /** Called now and then with the number of files found so far. */
  onProgress?: (found: number) => void;
}

export interface WalkResult {
  /** Absolute paths, sorted, each once. */
  files: { path: string; kind: FileKind }[];
  notices: Notice[];
}

interface IgnoreLayer {
  baseDir: string;
  matcher: Ignore;
}

/**
 * Walks `paths` (files or folders). A file named explicitly is taken even when ignored or excluded (as Ruff
 * does); a folder named explicitly is walked even when its name is in SKIPPED_DIRS.
 */
export function walk(paths: readonly string[], options: WalkOptions = {}): WalkResult {
  const respectGitignore = options.respectGitignore ?? true;
  const notices: Notice[] = [];
  const found = new Map<string, FileKind>();
  const excludeMatchers = new Map<string, Ignore>();
  const gitignoreCache = new Map<string, Ignore | null>();
  const visitedDirs = new Set<string>();

  /**
   * The ignore rules of `dir`'s .gitignore (and of .git/info/exclude in a repository root). `listed` is what the
   * caller knows of the folder's entries, so that a folder without those files costs no failed read.
   */
  const gitignoreOf = (dir: string, listed?: { gitignore: boolean; git: boolean }): Ignore | null => {
    if (gitignoreCache.has(dir)) return gitignoreCache.get(dir)!;
    let matcher: Ignore | null = null;
    const sources = !listed || listed.gitignore ? [path.join(dir, '.gitignore')] : [];
    if ((!listed || listed.git) && isDir(path.join(dir, '.git'))) sources.push(path.join(dir, '.git', 'info', 'exclude'));
    for (const file of sources) {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') notices.push({ level: 'warning', file, message: `cannot read: ${code ?? (err as Error).message}` });
        continue;
      }
      matcher ??= ignore();
      matcher.add(text);
    }
    gitignoreCache.set(dir, matcher);
    return matcher;
  };

  const isExcluded = (entry: string, isDirectory: boolean, parentDir: string): boolean => {
    const config = options.excludeFor?.(parentDir);
    if (!config || config.patterns.length === 0) return false;
    const rel = path.relative(config.baseDir, entry);
    if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return false;
    const key = `${config.baseDir}\0${config.patterns.join('\0')}`;
    let matcher = excludeMatchers.get(key);
    if (!matcher) {
      matcher = ignore().add([...config.patterns]);
      excludeMatchers.set(key, matcher);
    }
    return safeTest(matcher, toPosix(rel) + (isDirectory ? '/' : '')).ignored;
  };

  /** `layers` with, for each, the walked folder's path relative to the layer's folder ('' or ending in '/'). */
  const isGitignored = (name: string, isDirectory: boolean, layers: readonly IgnoreLayer[], prefixes: readonly string[]): boolean => {
    // Deeper .gitignore files override shallower ones; within a file the last matching rule wins.
    let ignored = false;
    const suffix = toPosix(name) + (isDirectory ? '/' : '');
    for (let i = 0; i < layers.length; i++) {
      const result = safeTest(layers[i].matcher, prefixes[i] + suffix);
      if (result.ignored) ignored = true;
      else if (result.unignored) ignored = false;
    }
    return ignored;
  };

  const add = (file: string, kind: FileKind) => {
    if (!found.has(file)) {
      found.set(file, kind);
      if (found.size % 500 === 0) options.onProgress?.(found.size);
    }
  };

  /**
   * `real` is the folder's real path when the caller knows it (a folder reached through no symbolic link is its
   * parent's real path plus its name); `prefixes` the folder's path relative to each layer, as isGitignored takes.
   */
  const walkDir = (dir: string, layers: IgnoreLayer[], prefixes: string[], real?: string) => {
    if (real === undefined) {
      try {
        real = fs.realpathSync(dir);
      } catch (err) {
        notices.push({ level: 'warning', file: dir, message: `cannot resolve: ${describeError(err)}` });
        return;
      }
    }
    if (visitedDirs.has(real)) {
      notices.push({ level: 'warning', file: dir, message: 'symbolic link to a folder already walked (a loop or a duplicate); skipped' });
      return;
    }
    visitedDirs.add(real);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      // The folder's own ignore rules are looked for (and their problems reported) before its listing is.
      if (respectGitignore) gitignoreOf(dir);
      notices.push({ level: 'warning', file: dir, message: `cannot read folder: ${describeError(err)}` });
      return;
    }
    let here = layers;
    let herePrefixes = prefixes;
    if (respectGitignore) {
      const listed = { gitignore: false, git: false };
      for (const e of entries) {
        if (e.name === '.gitignore') listed.gitignore = true;
        else if (e.name === '.git') listed.git = true;
      }
      const own = gitignoreOf(dir, listed);
      if (own) {
        here = [...layers, { baseDir: dir, matcher: own }];
        herePrefixes = [...prefixes, ''];
      }
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = childPath(dir, entry.name);
      let isDirectory = entry.isDirectory();
      let isRegular = entry.isFile();
      const isLink = entry.isSymbolicLink();
      if (isLink) {
        try {
          const st = fs.statSync(full);
          isDirectory = st.isDirectory();
          isRegular = st.isFile();
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          // A dangling link is ordinary (a removed target); a link loop is worth saying.
          if (code === 'ELOOP') notices.push({ level: 'warning', file: full, message: 'symbolic link loop; skipped' });
          continue;
        }
      }
      if (isDirectory) {
        if (SKIPPED_DIRS.has(entry.name) || isFile(path.join(full, 'pyvenv.cfg'))) continue;
        if (respectGitignore && isGitignored(entry.name, true, here, herePrefixes)) continue;
        if (isExcluded(full, true, dir)) continue;
        const name = toPosix(entry.name);
        walkDir(full, here, herePrefixes.map((p) => `${p}${name}/`), isLink ? undefined : childPath(real, entry.name));
      } else if (isRegular) {
        const kind = fileKind(entry.name);
        if (!kind) continue;
        if (isExcluded(full, false, dir)) continue;
        // Aux files are read even when git ignores them: a gitignored `.env` still holds secrets worth checking.
        if (kind === 'python' && respectGitignore && isGitignored(entry.name, false, here, herePrefixes)) continue;
        add(full, kind);
      }
    }
  };

  for (const input of paths) {
    const abs = path.resolve(input);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch (err) {
      notices.push({ level: 'error', file: abs, message: `cannot read: ${describeError(err)}` });
      continue;
    }
    if (st.isDirectory()) {
      const layers = respectGitignore ? ancestorLayers(abs, gitignoreOf) : [];
      walkDir(abs, layers, layers.map((l) => prefixOf(l.baseDir, abs)));
    } else if (st.isFile()) {
      const kind = fileKind(abs);
      if (kind) add(abs, kind);
      else notices.push({ level: 'warning', file: abs, message: 'not a Python file or a file the analysis reads; skipped' });
    } else {
      notices.push({ level: 'warning', file: abs, message: 'not a regular file or folder; skipped' });
    }
  }
  options.onProgress?.(found.size);
  const files = [...found].map(([p, kind]) => ({ path: p, kind })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, notices };
}

/**
 * The .gitignore layers of the folders above `dir`, from the repository root (the nearest folder holding `.git`)
 * down to `dir`'s parent. Outside a repository, none: a stray .gitignore above the audited folder is not ours.
 */
function ancestorLayers(dir: string, gitignoreOf: (dir: string) => Ignore | null): IgnoreLayer[] {
  const chain: string[] = [];
  let repoRoot: string | undefined;
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    chain.push(d);
    if (exists(path.join(d, '.git'))) {
      repoRoot = d;
      break;
    }
    if (path.dirname(d) === d) break;
  }
  if (isDir(path.join(dir, '.git')) || !repoRoot) return [];
  const layers: IgnoreLayer[] = [];
  for (const d of chain.reverse()) {
    const matcher = gitignoreOf(d);
    if (matcher) layers.push({ baseDir: d, matcher });
  }
  return layers;
}

export interface ReadFile {
  path: string;
  kind: FileKind;
  source: DecodedSource;
  /** The bytes as read, so a writer can check the file did not change in between. */
  bytes: Buffer;
}

export type ReadResult = { ok: true; file: ReadFile; notice?: Notice } | { ok: false; notice: Notice };

/** Reads and decodes one discovered file under the size limit. Never throws. */
export function readSourceFile(file: string, kind: FileKind, maxFileSize: number): ReadResult {
  let bytes: Buffer;
  try {
    const st = fs.statSync(file);
    // Replaced by a folder or a pipe since the walk: reading a FIFO would block forever.
    if (!st.isFile()) return { ok: false, notice: { level: 'warning', file, message: 'no longer a regular file; skipped' } };
    if (st.size > maxFileSize) {
      return { ok: false, notice: { level: 'warning', file, message: `larger than max-file-size (${formatBytes(st.size)} > ${formatBytes(maxFileSize)}); skipped` } };
    }
    bytes = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT' ? 'deleted during the run; skipped' : `cannot read: ${describeError(err)}`;
    return { ok: false, notice: { level: 'warning', file, message } };
  }
  // The size can change between stat and read (a file being written); the limit applies to what was read.
  if (bytes.length > maxFileSize) {
    return { ok: false, notice: { level: 'warning', file, message: `larger than max-file-size (${formatBytes(bytes.length)}); skipped` } };
  }
  const decoded = decodeSource(bytes);
  if (!decoded.ok) return { ok: false, notice: { level: 'warning', file, message: decoded.reason } };
  const result: ReadResult = { ok: true, file: { path: file, kind, source: decoded.source, bytes } };
  if (decoded.warning) result.notice = { level: 'warning', file, message: decoded.warning };
  return result;
}

/** `ignore` throws for names it takes for non-relative paths (a folder named `...`); such a name matches nothing. */
function safeTest(matcher: Ignore, rel: string): { ignored: boolean; unignored: boolean } {
  try {
    return matcher.test(rel);
  } catch {
    return { ignored: false, unignored: false };
  }
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${n} bytes`;
}

function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EACCES' || e.code === 'EPERM') return 'permission denied';
  if (e.code === 'ENOENT') return 'no such file or folder';
  if (e.code === 'ELOOP') return 'symbolic link loop';
  return e.code ?? e.message ?? String(err);
}

function toPosix(p: string): string {
  return path.sep === '/' ? p : p.split(path.sep).join('/');
}

/** path.join(dir, name) for a folder entry's name (no normalization needed). */
function childPath(dir: string, name: string): string {
  return dir.endsWith(path.sep) ? dir + name : dir + path.sep + name;
}

/** `dir` relative to `base` (an ancestor or `dir` itself) as isGitignored takes it: '' or ending in '/'. */
function prefixOf(base: string, dir: string): string {
  const rel = toPosix(path.relative(base, dir));
  return rel ? `${rel}/` : '';
}

// Stat helpers that never throw (a missing file is the common case on the walk's hot path: no exception built).
function stat(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

function exists(p: string): boolean {
  return stat(p) !== undefined;
}

function isDir(p: string): boolean {
  return stat(p)?.isDirectory() ?? false;
}

function isFile(p: string): boolean {
  return stat(p)?.isFile() ?? false;
}
