/**
 * Background indexing of a workspace folder for the server: the same file discovery and reading policy as the
 * CLI (core/discover.ts: .gitignore, `exclude`, skipped environment folders, size limit, binary and encoding
 * handling), read in slices that yield to the event loop so the server keeps answering, with progress and
 * cancellation. Also decides whether a file reported by the editor's file watcher belongs in the index.
 * Knows nothing of the connection or of rules.
 */
import * as path from 'path';
import ignore, { type Ignore } from 'ignore';
import { fileKind, readSourceFile, SKIPPED_DIRS, walk } from '../core/discover';
import type { Notice } from '../core/types';
import type { ResolvedFolderSettings } from './settings';

export interface IndexCallbacks {
  settingsFor(dir: string): ResolvedFolderSettings;
  onFile(file: string, text: string): void;
  onNotice(notice: Notice): void;
  onProgress?(done: number, total: number): void;
  isCancelled(): boolean;
}

const SLICE = 50;

export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Walks `root` and hands over every file the analysis reads. Resolves with the number of files handed over. */
export async function indexFolder(root: string, cb: IndexCallbacks): Promise<number> {
  const { files, notices } = walk([root], {
    excludeFor: (dir) => {
      const resolved = cb.settingsFor(dir);
      return { patterns: resolved.settings.exclude, baseDir: resolved.baseDir };
    },
  });
  for (const notice of notices) cb.onNotice(notice);
  let count = 0;
  for (let i = 0; i < files.length; i++) {
    if (i % SLICE === 0) {
      cb.onProgress?.(i, files.length);
      await yieldToEventLoop();
      if (cb.isCancelled()) break;
    }
    const { path: file, kind } = files[i];
    const read = readSourceFile(file, kind, cb.settingsFor(path.dirname(file)).settings.maxFileSize);
    if (read.notice) cb.onNotice(read.notice);
    if (!read.ok) continue;
    cb.onFile(file, read.file.source.text);
    count++;
  }
  cb.onProgress?.(files.length, files.length);
  return count;
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
