/**
 * The workspace folders the server analyses: one analyzer Workspace and one settings resolver per folder, and
 * which folder a file belongs to (the deepest folder containing it; a file outside every folder gets a folder of
 * its own directory, unindexed). Knows nothing of the connection or of documents.
 */
import * as path from 'path';
import { Workspace } from '../workspace/workspace';
import { FolderSettings } from './settings';

export class Folder {
  readonly workspace: Workspace;
  settings: FolderSettings;
  /** Set once the background index of the folder finished (a loose folder is never indexed). */
  indexed = false;

  constructor(
    readonly root: string,
    editor: Record<string, unknown>,
    /** False for the folder made up for a file outside every workspace folder. */
    readonly isWorkspaceFolder: boolean,
  ) {
    this.settings = new FolderSettings(root, editor);
    this.workspace = new Workspace(root, (file) => this.settings.settingsFor(file));
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

  dispose(): void {
    this.workspace.dispose();
  }
}

export class FolderSet {
  private readonly folders = new Map<string, Folder>();

  add(root: string, editor: Record<string, unknown>, isWorkspaceFolder = true): Folder {
    const abs = path.resolve(root);
    const existing = this.folders.get(abs);
    if (existing) return existing;
    const folder = new Folder(abs, editor, isWorkspaceFolder);
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
