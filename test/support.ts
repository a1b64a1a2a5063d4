/**
 * Shared test plumbing: the repository root, loading a fixture folder into a Workspace, and counting syntax errors.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Workspace } from '../server/src/workspace/workspace';
import { defaultSettings, type Settings } from '../server/src/core/settings';
import { parsePython } from '../server/src/python/parser';

/** The checkout: found from the compiled test's folder, else from the working directory (tests compiled elsewhere). */
export const REPO_ROOT = (() => {
  for (const start of [__dirname, process.cwd()]) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'server'))) return dir;
      if (path.dirname(dir) === dir) break;
    }
  }
  throw new Error('cannot find the repository root');
})();

export const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures');

export function listFilesRecursive(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFilesRecursive(full));
    else out.push(full);
  }
  return out.sort();
}

/** A workspace of every file in `dir` (`*.fixed.py` excluded: they are expectations, not sources). */
export function loadWorkspace(dir: string, settings: Partial<Settings> = {}): Workspace {
  const merged: Settings = { ...defaultSettings(), includeTests: true, ...settings };
  const ws = new Workspace(dir, () => merged);
  for (const file of listFilesRecursive(dir)) {
    if (file.endsWith('.fixed.py')) continue;
    ws.setFile(file, fs.readFileSync(file, 'utf8'));
  }
  return ws;
}

/** A one-file workspace from a string. */
/** The root of `workspaceOf`'s in-memory workspaces, and a file's path in it. */
export const VIRTUAL_ROOT = path.join(REPO_ROOT, '.virtual-workspace');
export const virtualPath = (name: string): string => path.join(VIRTUAL_ROOT, name);

export function workspaceOf(files: Record<string, string>, settings: Partial<Settings> = {}): Workspace {
  const merged: Settings = { ...defaultSettings(), includeTests: true, ...settings };
  const ws = new Workspace(VIRTUAL_ROOT, () => merged);
  for (const [name, text] of Object.entries(files)) ws.setFile(virtualPath(name), text);
  return ws;
}

export function syntaxErrorCount(text: string): number {
  const tree = parsePython(text);
  try {
    let count = 0;
    const visit = (n: import('web-tree-sitter').Node) => {
      if (n.isError || n.isMissing) count++;
      if (n.hasError) for (const c of n.children) if (c) visit(c);
    };
    visit(tree.rootNode);
    return count;
  } finally {
    tree.delete();
  }
}
