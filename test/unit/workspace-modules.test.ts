/**
 * Module resolution in workspaces that hold several projects (monorepos): an absolute import resolves against the
 * importing file's import root, the way Python does, whenever several projects hold the module it names
 * (services/billing/app/... and services/orders/app/... both importing `app.crud.items`); a name with one candidate,
 * a relative import and a single project resolve as they always did. Also: a file appearing or disappearing
 * re-decides the models whose imports it makes ambiguous (or no longer), with the memos that read them.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { initParser } from '../../server/src/python/parser';
import { importedAs } from '../../server/src/python/module-model';
import { ensureImport } from '../../server/src/python/edits';
import { Workspace } from '../../server/src/workspace/workspace';

before(async () => {
  await initParser();
});

const ROOT = path.resolve('/virtual/monorepo');
const abs = (rel: string) => path.join(ROOT, rel);

function workspace(files: Record<string, string>): Workspace {
  const ws = new Workspace(ROOT);
  for (const [rel, text] of Object.entries(files)) ws.setFile(abs(rel), text);
  return ws;
}

/** What `local` is bound to in `file`, and the workspace file (relative) the binding's module is in. */
function binding(ws: Workspace, file: string, local: string): { target: string; file: string | undefined; member: string | undefined } {
  const b = ws.model(abs(file))!.imports.get(local);
  assert.ok(b, `${file} binds ${local}`);
  const loc = ws.locate(b.target);
  return { target: b.target, file: loc && path.relative(ROOT, loc.file.path).split(path.sep).join('/'), member: loc?.member };
}

const ROUTE = 'from app.crud.items import get_owned_item\nfrom app.api import deps\nimport app.core.config\nfrom ..deps import CurrentUser\n';

function twoServices(extra: Record<string, string> = {}): Workspace {
  const files: Record<string, string> = {};
  for (const svc of ['billing', 'orders']) {
    files[`services/${svc}/app/__init__.py`] = '';
    files[`services/${svc}/app/api/__init__.py`] = '';
    files[`services/${svc}/app/api/deps.py`] = 'CurrentUser = 1\n';
    files[`services/${svc}/app/api/routes/items.py`] = ROUTE;
    files[`services/${svc}/app/crud/items.py`] = 'def get_owned_item(): ...\n';
    files[`services/${svc}/app/core/config.py`] = 'KEY = 1\n';
  }
  return workspace({ ...files, ...extra });
}

describe('module resolution across projects', () => {
  it('an ambiguous absolute import resolves in the importing file\'s own project, from each project', () => {
    const ws = twoServices();
    for (const svc of ['billing', 'orders']) {
      const route = `services/${svc}/app/api/routes/items.py`;
      // orders' names are the shorter: `fileForModule('app.crud.items')` is orders' file, so orders' imports stay
      // as written and billing's are rooted at services.billing.
      const rooted = svc === 'billing' ? `services.${svc}.` : '';
      assert.deepEqual(binding(ws, route, 'get_owned_item'), {
        target: `${rooted}app.crud.items.get_owned_item`,
        file: `services/${svc}/app/crud/items.py`,
        member: 'get_owned_item',
      });
      assert.equal(binding(ws, route, 'deps').file, `services/${svc}/app/api/deps.py`);
      // `import app.core.config` binds `app`: the package of this project.
      const b = ws.model(abs(route))!;
      assert.equal(b.resolveDotted('app.core.config.KEY'), `${rooted}app.core.config.KEY`);
      assert.equal(ws.locate(b.resolveDotted('app.core.config.KEY'))?.file.path, abs(`services/${svc}/app/core/config.py`));
      // The source's own spelling stays available (fixes write imports the way the project does).
      const imported = b.imports.get('get_owned_item')!;
      assert.equal(imported.root, rooted ? `services.${svc}` : undefined);
      assert.equal(importedAs(imported), 'app.crud.items.get_owned_item');
      assert.equal(ensureImport(b, 'app.crud.items', 'get_owned_item').edit, undefined, 'already imported as written');
    }
    ws.dispose();
  });

  it('relative imports resolve from the module itself, as before', () => {
    const ws = twoServices();
    for (const svc of ['billing', 'orders']) {
      const b = binding(ws, `services/${svc}/app/api/routes/items.py`, 'CurrentUser');
      assert.deepEqual(b, { target: `services.${svc}.app.api.deps.CurrentUser`, file: `services/${svc}/app/api/deps.py`, member: 'CurrentUser' });
      assert.equal(ws.model(abs(`services/${svc}/app/api/routes/items.py`))!.imports.get('CurrentUser')!.root, undefined);
    }
    ws.dispose();
  });

  it('a name with one candidate resolves as before, wherever it is imported from', () => {
    const ws = twoServices({
      'services/orders/app/core/audit.py': 'def log(): ...\n',
      'services/billing/app/api/routes/audit.py': 'from app.core.audit import log\nfrom fastapi import Depends\n',
    });
    assert.deepEqual(binding(ws, 'services/billing/app/api/routes/audit.py', 'log'), {
      target: 'app.core.audit.log',
      file: 'services/orders/app/core/audit.py',
      member: 'log',
    });
    assert.equal(binding(ws, 'services/billing/app/api/routes/audit.py', 'Depends').target, 'fastapi.Depends');
    ws.dispose();
  });

  it('files outside the package (a project\'s main.py, its tests) import from their project', () => {
    const ws = twoServices({
      'services/billing/main.py': 'from app.api import deps\n',
      'services/orders/tests/api/test_items.py': 'from app.crud.items import get_owned_item\n',
    });
    assert.equal(binding(ws, 'services/billing/main.py', 'deps').file, 'services/billing/app/api/deps.py');
    assert.equal(binding(ws, 'services/orders/tests/api/test_items.py', 'get_owned_item').file, 'services/orders/app/crud/items.py');
    ws.dispose();
  });

  it('src/ layouts, inside services and at the workspace root', () => {
    const files: Record<string, string> = {};
    for (const svc of ['a', 'b']) {
      files[`services/${svc}/src/app/__init__.py`] = '';
      files[`services/${svc}/src/app/crud.py`] = 'def get(): ...\n';
      files[`services/${svc}/src/app/routes.py`] = 'from app.crud import get\n';
    }
    let ws = workspace(files);
    for (const svc of ['a', 'b']) {
      assert.deepEqual(binding(ws, `services/${svc}/src/app/routes.py`, 'get'), {
        // a's file is the one `app.crud` means anyway (same length, first by path).
        target: `${svc === 'a' ? '' : `services.${svc}.src.`}app.crud.get`,
        file: `services/${svc}/src/app/crud.py`,
        member: 'get',
      });
    }
    ws.dispose();
    // One project in src/ at the root: module names drop `src`, and imports stay as written.
    ws = workspace({ 'src/app/__init__.py': '', 'src/app/crud.py': 'def get(): ...\n', 'src/app/routes.py': 'from app.crud import get\n' });
    assert.deepEqual(binding(ws, 'src/app/routes.py', 'get'), { target: 'app.crud.get', file: 'src/app/crud.py', member: 'get' });
    ws.dispose();
  });

  it('one project keeps its resolution, also with two modules of one name', () => {
    const ws = workspace({
      'backend/app/__init__.py': '',
      'backend/app/schemas.py': 'class X: ...\n',
      'backend/app/models.py': 'class M: ...\n',
      'backend/app/routers/schemas.py': 'class X: ...\n',
      'backend/app/routers/users.py': 'from schemas import X\nfrom app.models import M\n',
    });
    // `from schemas import X` was the shortest candidate (app/schemas.py), not the routers' sibling.
    assert.deepEqual(binding(ws, 'backend/app/routers/users.py', 'X'), { target: 'schemas.X', file: 'backend/app/schemas.py', member: 'X' });
    assert.deepEqual(binding(ws, 'backend/app/routers/users.py', 'M'), { target: 'app.models.M', file: 'backend/app/models.py', member: 'M' });
    ws.dispose();
  });

  it('a file that makes an import ambiguous (or no longer) re-decides the models and memos that used it', () => {
    const ws = twoServices();
    const orphan = 'services/billing/app/crud/items.py';
    ws.removeFile(abs(orphan));
    const route = abs('services/billing/app/api/routes/items.py');
    const where = () => ws.memo('t:where', () => ws.locate(ws.model(route)!.imports.get('get_owned_item')!.target)?.file.path);
    // One candidate left: orders', as before.
    assert.equal(where(), abs('services/orders/app/crud/items.py'));
    const modelBefore = ws.model(route);
    ws.setFile(abs('services/billing/app/core/other.py'), 'x = 1\n');
    assert.equal(ws.model(route), modelBefore, 'a file that changes no import of the route keeps its model');
    ws.setFile(abs(orphan), 'def get_owned_item(): ...\n');
    assert.ok(!ws.memoKeys().includes('t:where'));
    assert.notEqual(ws.model(route), modelBefore, 'the route model was rebuilt');
    assert.equal(where(), abs(orphan));
    ws.removeFile(abs(orphan));
    assert.ok(!ws.memoKeys().includes('t:where'));
    assert.equal(where(), abs('services/orders/app/crud/items.py'));
    // The same through the language server's lazy start-up path.
    ws.setFileLazy(abs(orphan), 'h', () => 'def get_owned_item(): ...\n');
    assert.equal(where(), abs(orphan));
    ws.dispose();
  });
});
