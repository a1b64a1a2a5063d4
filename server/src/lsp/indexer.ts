/**
 * Background indexing of a workspace folder for the server: the same file discovery and reading policy as the
 * CLI (core/discover.ts: .gitignore, `exclude`, skipped environment folders, size limit, binary and encoding
 * handling), read in slices that yield to the event loop so the server keeps answering, with progress and
 * cancellation. With a persistent index cache (index-cache.ts), a Python file whose stat matches the cache is not
 * read: it is handed over by content hash with a loader for its text. Also decides whether a file reported by the
 * editor's file watcher belongs in the index. Knows nothing of the connection or of rules.
 */
import * as fs from 'fs';
import * as path from 'path';
import { createHash } from 'crypto';
import { performance } from 'perf_hooks';
import ignore, { type Ignore } from 'ignore';
import { fileKind, readSourceFile, SKIPPED_DIRS, walk, type FileKind } from '../core/discover';
import type { Notice } from '../core/types';
import type { IndexCache } from './index-cache';
import type { ResolvedFolderSettings } from './settings';

export interface IndexCallbacks {
  settingsFor(dir: string): ResolvedFolderSettings;
  onFile(file: string, text: string): void;
  onNotice(notice: Notice): void;
  onProgress?(done: number, total: number): void;
  isCancelled(): boolean;
  /** Facts of files read by an earlier run; consulted and updated only together with `onCachedFile`. */
  cache?: IndexCache;
  /**
   * A Python file the cache vouches for, unread: `hash` is the content hash the Workspace would compute from its
   * text, `load` reads the text (on first use; '' when it can no longer be read).
   */
  onCachedFile?(file: string, hash: string, load: () => string): void;
}

const SLICE = 50;
const PROGRESS_INTERVAL_MS = 100;

export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Walks `root` and hands over every file the analysis reads. Resolves with the number of files handed over. */
export async function indexFolder(root: string, cb: IndexCallbacks): Promise<number> {
  // Settings by folder, once per folder: the walk asks for every entry and the loop below for every file.
  const settingsByDir = new Map<string, ResolvedFolderSettings>();
  const settingsOf = (dir: string) => {
    let resolved = settingsByDir.get(dir);
    if (!resolved) settingsByDir.set(dir, (resolved = cb.settingsFor(dir)));
    return resolved;
  };
  const { files, notices } = walk([root], {
    excludeFor: (dir) => {
      const resolved = settingsOf(dir);
      return { patterns: resolved.settings.exclude, baseDir: resolved.baseDir };
    },
  });
  for (const notice of notices) cb.onNotice(notice);
  const cache = cb.onCachedFile ? cb.cache : undefined;
  cache?.beginIndex();
  let count = 0;
  let complete = true;
  let reportedAt = -Infinity;
  for (let i = 0; i < files.length; i++) {
    if (i % SLICE === 0) {
      // Progress a few times a second, not every slice: each report is a message the editor handles.
      const now = performance.now();
      if (now - reportedAt >= PROGRESS_INTERVAL_MS) {
        reportedAt = now;
        cb.onProgress?.(i, files.length);
      }
      await yieldToEventLoop();
      if (cb.isCancelled()) {
        complete = false;
        break;
      }
    }
    const { path: file, kind } = files[i];
    const maxFileSize = settingsOf(path.dirname(file)).settings.maxFileSize;
    if (cache && kind === 'python' ? indexWithCache(file, maxFileSize, cache, cb) : indexByReading(file, kind, maxFileSize, cb)) count++;
  }
  cache?.finishIndex(complete);
  cb.onProgress?.(files.length, files.length);
  return count;
}

/** Reads a file and hands it over; whether it was. */
function indexByReading(file: string, kind: FileKind, maxFileSize: number, cb: IndexCallbacks): boolean {
  const read = readSourceFile(file, kind, maxFileSize);
  if (read.notice) cb.onNotice(read.notice);
  if (!read.ok) return false;
  cb.onFile(file, read.file.source.text);
  return true;
}

/**
 * A Python file with the cache: unread when its stat matches the cache (the decoding warning its read gave is
 * repeated), else read, handed over and recorded. Whether it was handed over.
 */
function indexWithCache(file: string, maxFileSize: number, cache: IndexCache, cb: IndexCallbacks): boolean {
  // Undefined when gone since the walk (readSourceFile says so); other errors are left to it too.
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(file, { throwIfNoEntry: false });
  } catch {
    st = undefined;
  }
  // The size limit is a setting, not a fact of the file: checked here, before the cache is asked.
  const facts = st?.isFile() && st.size <= maxFileSize ? cache.lookup(file, st) : undefined;
  if (facts) {
    if (facts.warning !== undefined) cb.onNotice({ level: 'warning', file, message: facts.warning });
    cb.onCachedFile!(file, facts.hash, () => readWatchedFile(file, maxFileSize, () => undefined) ?? '');
    return true;
  }
  const readAt = Date.now();
  const read = readSourceFile(file, 'python', maxFileSize);
  if (read.notice) cb.onNotice(read.notice);
  // Only files that were read are recorded: a skipped one (binary, too large, unreadable) is tried again next time.
  if (!read.ok) return false;
  if (st?.isFile()) cache.record(file, st, { hash: contentHash(read.file.source.text), warning: read.notice?.message }, readAt);
  cb.onFile(file, read.file.source.text);
  return true;
}

/** The hash the Workspace keys a file's text by (Workspace.setFile). */
export function contentHash(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/**
 * Whether a file the watcher reports (created or changed outside the editor) belongs in the index: a kind the
 * analysis reads, not under a skipped folder, not excluded. (.gitignore is only applied by a full re-index.)
 */
export function belongsInIndex(file: string, root: string, resolved: ResolvedFolderSettings): boolean {
  if (!fileKind(file)) return false;
  const rel = path.relative(root, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return false;
  if (rel.split(path.sep).slice(0, -1).some((part) => SKIPPED_DIRS.has(part))) return false;
  const fromBase = path.relative(resolved.baseDir, file).split(path.sep).join('/');
  if (resolved.settings.exclude.length === 0 || fromBase.startsWith('../')) return true;
  try {
    return !excludeMatcher(resolved.settings.exclude).ignores(fromBase);
  } catch {
    return true;
  }
}

/** Matchers by pattern list: this runs on every analysis of an open document. */
const matchers = new Map<string, Ignore>();
function excludeMatcher(patterns: readonly string[]): Ignore {
  const key = patterns.join('\0');
  let matcher = matchers.get(key);
  if (!matcher) {
    matcher = ignore().add([...patterns]);
    matchers.set(key, matcher);
  }
  return matcher;
}

/** Reads a file the watcher reported, by the shared policy; undefined when it cannot or must not be analysed. */
export function readWatchedFile(file: string, maxFileSize: number, onNotice: (n: Notice) => void): string | undefined {
  const kind = fileKind(file);
  if (!kind) return undefined;
  const read = readSourceFile(file, kind, maxFileSize);
  if (read.notice) onNotice(read.notice);
  return read.ok ? read.file.source.text : undefined;
}
