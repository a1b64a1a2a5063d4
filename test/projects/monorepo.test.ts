/**
 * A workspace of three services that share the package name `app` (test/fixtures/projects/monorepo-shared-package):
 * each service's routes are judged by its own dependency, CRUD helper and models. billing is secure; orders' helper
 * loads by id without the owner (ISO204 on orders' routes only); reports' dependency verifies no token (ISO201 on
 * reports' routes only). Each service analysed alone gives the same isolation findings as inside the monorepo.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { initParser } from '../../server/src/python/parser';
import { analyzeWorkspace } from '../../server/src/core/analyze';
import { FIXTURES, loadWorkspace } from '../support';
import type { Finding } from '../../server/src/core/types';

const DIR = path.join(FIXTURES, 'projects', 'monorepo-shared-package');

before(async () => {
  await initParser();
});

function findings(dir: string): Finding[] {
  const ws = loadWorkspace(dir);
  try {
    return analyzeWorkspace(ws).findings;
  } finally {
    ws.dispose();
  }
}

/** `service code line` for the isolation findings, paths relative to the services folder. */
function isolation(list: Finding[]): string[] {
  return list
    .filter((f) => f.code.startsWith('ISO'))
    .map((f) => `${path.relative(path.join(DIR, 'services'), f.file).split(path.sep)[0]} ${f.code} ${path.basename(f.file)}:${f.range.start.line + 1}`)
    .sort();
}

describe('monorepo: services sharing the package name `app`', () => {
  const all = () => findings(DIR);

  it('reports each service\'s flaw on that service only', () => {
    const got = isolation(all());
    const by = (svc: string, code: string) => got.filter((g) => g.startsWith(`${svc} ${code} `));
    assert.equal(by('orders', 'ISO204').length, 2, got.join('\n'));
    assert.equal(by('reports', 'ISO201').length, 4, got.join('\n'));
    assert.deepEqual(by('billing', 'ISO'), [], 'billing is judged by its own owner-filtering helper and verifying dependency');
    assert.deepEqual(by('orders', 'ISO201'), [], 'orders has its own verifying dependency');
    assert.deepEqual(by('reports', 'ISO204'), [], 'reports has its own owner-filtering helper');
  });

  it('offers no fix that would import another service\'s dependency under this service\'s name', () => {
    // `from app.api.deps import CurrentUserId` in reports means reports' own dependency, which verifies nothing.
    const reports = all().filter((f) => f.code === 'ISO201');
    assert.equal(reports.length, 4);
    for (const f of reports) assert.equal(f.fix, undefined, `${path.basename(f.file)}:${f.range.start.line + 1}`);
  });

  it('names no other service\'s dependency in a message, and reports no verification as repeated across services', () => {
    const list = all();
    for (const f of list.filter((x) => x.code === 'ISO201')) {
      assert.match(f.message, /defines no auth dependency to add/, f.message);
      for (const r of f.related ?? []) assert.ok(r.file.includes(`${path.sep}reports${path.sep}`), `${f.message}: related ${r.file}`);
    }
    assert.deepEqual(list.filter((x) => x.code === 'JWT110').map((x) => x.message), [], 'each service verifies tokens once, in its own deps.py');
  });

  it('a service inside the monorepo is judged as it is alone', () => {
    const together = isolation(all());
    const alone = ['billing', 'orders', 'reports'].flatMap((svc) =>
      isolation(findings(path.join(DIR, 'services', svc))),
    );
    assert.deepEqual(together, alone.sort());
  });
});
