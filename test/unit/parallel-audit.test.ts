/**
 * The parallel audit gives exactly what the single-threaded audit gives (findings, notices, checklist, counts) on
 * every fixture workspace and the example app, whatever the number of threads; and the workspace's text
 * prefilter (`filesMentioning`) follows edits.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { initParser } from '../../server/src/python/parser';
import { audit } from '../../server/src/core/audit';
import { parallelAudit } from '../../server/src/core/parallel-audit';
import { FIXTURES, REPO_ROOT, loadWorkspace, workspaceOf } from '../support';

function workspaceDirs(): string[] {
  const dirs: string[] = [];
  for (const group of ['rules', 'projects']) {
    const dir = path.join(FIXTURES, group);
    if (fs.existsSync(dir)) for (const d of fs.readdirSync(dir)) dirs.push(path.join(dir, d));
  }
  const example = path.join(REPO_ROOT, 'examples', 'todo-api');
  if (fs.existsSync(example)) dirs.push(example);
  return dirs.filter((d) => fs.statSync(d).isDirectory());
}

before(async () => {
  await initParser();
});

describe('parallel audit', () => {
  const dirs = workspaceDirs();

  it('finds fixture workspaces to compare (the test can fail)', () => {
    assert.ok(dirs.length > 10);
  });

  for (const dir of dirs) {
    it(`equals the single-threaded audit on ${path.relative(REPO_ROOT, dir)}`, async () => {
      const serialWs = loadWorkspace(dir);
      const parallelWs = loadWorkspace(dir);
      try {
        const serial = audit(serialWs);
        // minFiles 0 and one file per request: even small fixtures are split between two workers.
        const parallel = await parallelAudit(parallelWs, { jobs: 2, minFiles: 0, chunkSize: 1 });
        assert.equal(JSON.stringify(parallel), JSON.stringify(serial));
      } finally {
        serialWs.dispose();
        parallelWs.dispose();
      }
    });
  }

  it('reports progress up to the file count', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 30; i++) files[`app/m${i}.py`] = `import os\nDEBUG = ${i % 2 ? 'True' : 'False'}\n`;
    const ws = workspaceOf(files);
    const seen: number[] = [];
    const result = await parallelAudit(ws, { jobs: 2, minFiles: 0, onProgress: (done) => seen.push(done) });
    assert.equal(seen[seen.length - 1], 30);
    assert.equal(JSON.stringify(result), JSON.stringify(audit(ws)));
    ws.dispose();
  });
});

describe('Workspace.filesMentioning', () => {
  it('lists matching files in path order and follows edits', () => {
    const ws = workspaceOf({ 'b.py': 'import jwt\n', 'a.py': 'x = 1\n', 'c.py': 'from jose import jwt\n' });
    const names = () => ws.filesMentioning(/jwt|jose/g).map((f) => path.basename(f.path));
    assert.deepEqual(names(), ['b.py', 'c.py']);
    assert.deepEqual(names(), ['b.py', 'c.py'], 'a global pattern keeps no state between calls');
    ws.setFile(path.join(ws.root, 'a.py'), 'import jwt\n');
    ws.setFile(path.join(ws.root, 'b.py'), 'x = 2\n');
    assert.deepEqual(names(), ['a.py', 'c.py']);
    ws.removeFile(path.join(ws.root, 'c.py'));
    assert.deepEqual(names(), ['a.py']);
    ws.dispose();
  });
});
