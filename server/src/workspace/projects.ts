/**
 * Projects inside a workspace: a folder that declares its own dependencies (a `requirements*.txt`, a
 * `pyproject.toml` or a lock file) holds a project, and a file belongs to the nearest such folder above it, else to
 * the workspace root. The services of a monorepo are separate projects: code in one cannot reuse a function of
 * another. Knows nothing of rules.
 */
import * as path from 'path';
import type { Workspace } from './workspace';
import { VERSION_FILE_PATTERN } from './pinned-versions';

/** The folder of the project `file` belongs to (absolute). */
export function projectRootOf(ws: Workspace, file: string): string {
  // An array, not a Set: an empty Set would read as a lazily filled cache. Non-Python files changing drops every
  // memo, so reading them untracked here is safe.
  const folders = ws.memo('projects:folders', () => [...new Set(ws.auxFilePaths().filter((f) => VERSION_FILE_PATTERN.test(f)).map((f) => path.dirname(f)))]);
  const root = path.resolve(ws.root);
  for (let dir = path.dirname(path.resolve(file)); dir.startsWith(root); dir = path.dirname(dir)) {
    if (folders.includes(dir)) return dir;
    if (dir === root || path.dirname(dir) === dir) break;
  }
  return root;
}
