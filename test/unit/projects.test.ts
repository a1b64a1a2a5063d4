/**
 * projectRootOf: a folder with its own requirements*.txt, pyproject.toml or lock file holds a project; a file belongs
 * to the nearest one above it, else to the workspace root.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { Workspace } from '../../server/src/workspace/workspace';
import { projectRootOf } from '../../server/src/workspace/projects';

const ROOT = path.resolve('/virtual/projects');
const abs = (rel: string) => path.join(ROOT, rel);

function workspace(files: string[]): Workspace {
  const ws = new Workspace(ROOT);
  for (const rel of files) ws.setFile(abs(rel), rel.endsWith('.py') ? 'x = 1\n' : 'fastapi\n');
  return ws;
}

describe('projectRootOf', () => {
  it('puts each service of a monorepo in its own project, and the rest in the workspace root', () => {
    const ws = workspace([
      'pyproject.toml',
      'services/billing/requirements.txt',
      'services/billing/app/api/deps.py',
      'services/orders/pyproject.toml',
      'services/orders/app/deps.py',
      'services/orders/uv.lock',
      'tools/script.py',
    ]);
    assert.equal(projectRootOf(ws, abs('services/billing/app/api/deps.py')), abs('services/billing'));
    assert.equal(projectRootOf(ws, abs('services/orders/app/deps.py')), abs('services/orders'));
    assert.equal(projectRootOf(ws, abs('tools/script.py')), ROOT);
  });

  it('is the workspace root without any dependency declaration, and follows one added later', () => {
    const ws = workspace(['app/main.py', 'backend/app/deps.py']);
    assert.equal(projectRootOf(ws, abs('backend/app/deps.py')), ROOT);
    ws.setFile(abs('backend/requirements-dev.txt'), 'pytest\n');
    assert.equal(projectRootOf(ws, abs('backend/app/deps.py')), abs('backend'));
    assert.equal(projectRootOf(ws, abs('app/main.py')), ROOT);
  });
});
