/**
 * The workspace folders the server analyses: one analyzer Workspace, one settings resolver and (given a cache
 * directory) one persistent index cache per folder, and which folder a file belongs to (the deepest folder
 * containing it; a file outside every folder gets a folder of its own directory, unindexed, uncached).
 * Analysis results go through the folder: while the workspace is in the state its index cache's results belong
 * to, a file analysed before (in this run or a previous one) is answered from the cache.
 * Knows nothing of the connection or of documents.
 */
import * as path from 'path';
import type { FileAnalysis } from '../core/analyze';
import type { Tree } from '../python/parser';
import { Workspace } from '../workspace/workspace';
import type { Analyzer } from './analysis';
import { IndexCache, workspaceStateKey } from './index-cache';
import { FolderSettings } from './settings';

/**
 * The folder's Workspace, counting the calls that changed what the analysis sees: the index cache's results are
 * used only while the count is what it was when their state was declared (cheaper than hashing the state again).
 */
export class FolderWorkspace extends Workspace {
  changes = 0;

  override setFile(filePath: string, text: string, tree?: Tree): void {
    const before = this.file(filePath);
    const aux = this.auxFile(filePath);
    super.setFile(filePath, text, tree);
    // The same text again keeps the entry (Python) or the string (other files): not a change.
    if (this.file(filePath) !== before || this.auxFile(filePath) !== aux) this.changes++;
  }

  override setFileLazy(filePath: string, hash: string, load: () => string): void {
    // A new file always changes the state (the common case during an index: one lookup only). A file present is
    // replaced through setFile, which counts a change itself.
    const isNew = this.file(filePath) === undefined;
    super.setFileLazy(filePath, hash, load);
    if (isNew) this.changes++;
  }

  override removeFile(filePath: string): void {
    const present = this.file(filePath) !== undefined || this.auxFile(filePath) !== undefined;
    super.removeFile(filePath);
    if (present) this.changes++;
  }

  override settingsChanged(): void {
    super.settingsChanged();
    this.changes++;
  }
}

export class Folder {
  readonly workspace: FolderWorkspace;
  settings: FolderSettings;
  /** Set once the background index of the folder finished (a loose folder is never indexed). */
  indexed = false;
  /** The persistent index cache (a workspace folder of a server given a cache directory). */
  readonly cache: IndexCache | undefined;
  /** `workspace.changes` when the cache's results state was declared (`checkpoint`). */
  private cachedAt: number | undefined;

  constructor(
    readonly root: string,
    editor: Record<string, unknown>,
    /** False for the folder made up for a file outside every workspace folder. */
    readonly isWorkspaceFolder: boolean,
    cacheDir?: string,
  ) {
    this.settings = new FolderSettings(root, editor);
    this.workspace = new FolderWorkspace(root, (file) => this.settings.settingsFor(file));
    this.cache = cacheDir && isWorkspaceFolder ? IndexCache.open(cacheDir, root) : undefined;
  }

  /**
   * After an index: declares the workspace's current state the one the cache's results belong to (the stored
   * results survive when a previous run computed them in the same state), and writes the cache. Returns a line
   * for the log, or undefined without a cache.
   */
  checkpoint(): string | undefined {
    if (!this.cache) return undefined;
    // Folders usually share one resolved settings object: each is serialized once.
    const json = new Map<object, string>();
    const state = workspaceStateKey(this.workspace, (dir) => {
      const { settings, baseDir } = this.settings.forDirectory(dir);
      let text = json.get(settings);
      if (text === undefined) json.set(settings, (text = JSON.stringify(settings)));
      return `${baseDir}\0${text}`;
    });
    const reused = this.cache.useState(state);
    this.cachedAt = this.workspace.changes;
    const error = this.cache.save();
    const { hits, misses } = this.cache.stats;
    const rejected = this.cache.rejected ? `; the cache file found was ignored: ${this.cache.rejected}` : '';
    return `index cache of ${this.root}: ${hits} files unchanged, ${misses} read; ${reused ? 'analysis results reused' : 'no results for this state'}${rejected}${error ? `; ${error}` : ''}`;
  }

  /** The findings of one file: from the cache when the workspace is in its state and the file was analysed in it. */
  analyze(analyzer: Analyzer, file: string): FileAnalysis {
    const cache = this.cacheInState();
    const hit = cache?.result(file);
    if (hit) {
      analyzer.notices(hit.notices);
      return hit;
    }
    const result = analyzer.file(this.workspace, file);
    cache?.storeResult(file, result);
    return result;
  }

  /** The findings of the workspace-level checks, from the cache as `analyze`. */
  workspaceLevel(analyzer: Analyzer): FileAnalysis {
    const cache = this.cacheInState();
    const hit = cache?.workspaceResult();
    if (hit) {
      analyzer.notices(hit.notices);
      return hit;
    }
    const result = analyzer.workspaceLevel(this.workspace);
    cache?.storeWorkspaceResult(result);
    return result;
  }

  private cacheInState(): IndexCache | undefined {
    return this.cachedAt !== undefined && this.cachedAt === this.workspace.changes ? this.cache : undefined;
  }

  /** New editor settings or a changed pyproject.toml: resolve settings afresh; the workspace's caches go too. */
  resetSettings(editor: Record<string, unknown>): void {
    this.settings = new FolderSettings(this.root, editor);
    this.workspace.settingsChanged();
  }

  contains(file: string): boolean {
    const rel = path.relative(this.root, file);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  }

  /** Writes what the cache learnt since its last write; frees the trees. */
  dispose(): void {
    this.cache?.save();
    this.workspace.dispose();
  }
}

export class FolderSet {
  private readonly folders = new Map<string, Folder>();
  /** Where workspace folders keep their index caches (`initializationOptions.cacheDir`); none without it. */
  cacheDir: string | undefined;

  add(root: string, editor: Record<string, unknown>, isWorkspaceFolder = true): Folder {
    const abs = path.resolve(root);
    const existing = this.folders.get(abs);
    if (existing) return existing;
    const folder = new Folder(abs, editor, isWorkspaceFolder, this.cacheDir);
    this.folders.set(abs, folder);
    return folder;
  }

  remove(root: string): Folder | undefined {
    const abs = path.resolve(root);
    const folder = this.folders.get(abs);
    if (!folder) return undefined;
    folder.dispose();
    this.folders.delete(abs);
    return folder;
  }

  /** The deepest workspace folder containing `file`, else a loose folder for the file's directory. */
  folderFor(file: string, editor: () => Record<string, unknown>): Folder {
    let best: Folder | undefined;
    for (const folder of this.folders.values()) {
      if (!folder.isWorkspaceFolder || !folder.contains(file)) continue;
      if (!best || folder.root.length > best.root.length) best = folder;
    }
    return best ?? this.add(path.dirname(file), editor(), false);
  }

  /** The deepest workspace folder containing `file`, if any (no loose folder is made up). */
  find(file: string): Folder | undefined {
    let best: Folder | undefined;
    for (const folder of this.folders.values()) {
      if (folder.contains(file) && (!best || folder.root.length > best.root.length)) best = folder;
    }
    return best;
  }

  all(): Folder[] {
    return [...this.folders.values()];
  }

  workspaceFolders(): Folder[] {
    return this.all().filter((f) => f.isWorkspaceFolder);
  }

  dispose(): void {
    for (const folder of this.folders.values()) folder.dispose();
    this.folders.clear();
  }
}
