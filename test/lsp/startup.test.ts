/**
 * Start-up of the real server process with an index cache directory (as the extension passes its storage):
 * the first start fills the cache and a second start on the unchanged folder publishes the same diagnostics from
 * it without reading the Python files; a file changed on disk between starts, an open buffer that differs from the
 * disk, or a corrupt cache file all lead to a fresh analysis with correct diagnostics. Functional, not timed.
 */
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { REPO_ROOT } from '../support';
import { LspTestClient } from './harness';

const SCRATCH = fs.mkdtempSync(path.join(os.tmpdir(), 'jwt-api-security-startup-'));
after(() => fs.rmSync(SCRATCH, { recursive: true, force: true }));

/** A scratch copy of the example app, mtimes a minute back (the cache does not keep files written just now). */
function exampleCopy(name: string): string {
  const root = path.join(SCRATCH, name);
  fs.cpSync(path.join(REPO_ROOT, 'examples', 'todo-api'), root, { recursive: true });
  const past = new Date(Date.now() - 60_000);
  const visit = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) visit(full);
      else fs.utimesSync(full, past, past);
    }
  };
  visit(root);
  return root;
}

interface Session {
  diagnostics: Diagnostic[];
  cacheLog: string;
}

/** Starts the server on `root`, opens `file` (optionally with other text than the disk's), returns its diagnostics. */
async function session(root: string, cacheDir: string, file: string, accept: (d: Diagnostic[]) => boolean, text?: string): Promise<Session> {
  const client = await LspTestClient.start({ root, initializationOptions: { cacheDir } });
  try {
    client.open(file, text);
    const diagnostics = await client.diagnosticsFor(file, accept, 30000);
    const cacheLog = await client.waitFor('the index cache log line', () => client.logs.find((l) => l.message.startsWith('index cache of '))?.message, 10000);
    return { diagnostics, cacheLog };
  } finally {
    await client.shutdown();
  }
}

const codes = (ds: Diagnostic[]) => ds.map((d) => `${d.code}@${d.range.start.line}`).sort();
const nonEmpty = (ds: Diagnostic[]) => ds.length > 0;

describe('language server: start-up with an index cache', () => {
  it('a second start on the unchanged folder publishes the same diagnostics from the cache', async () => {
    const root = exampleCopy('unchanged');
    const cacheDir = path.join(SCRATCH, 'unchanged-cache');
    const tasks = path.join(root, 'routes', 'tasks.py');
    const first = await session(root, cacheDir, tasks, nonEmpty);
    assert.match(first.cacheLog, /: 0 files unchanged, 6 read; no results for this state/);
    assert.ok(fs.readdirSync(path.join(cacheDir, 'index')).some((f) => f.endsWith('.json')), 'the cache was written');
    const second = await session(root, cacheDir, tasks, nonEmpty);
    assert.match(second.cacheLog, /: 6 files unchanged, 0 read; analysis results reused/);
    assert.deepEqual(second.diagnostics, first.diagnostics);
  });

  it('a file changed on disk between starts is read again and its diagnostics are fresh', async () => {
    const root = exampleCopy('changed');
    const cacheDir = path.join(SCRATCH, 'changed-cache');
    const tasks = path.join(root, 'routes', 'tasks.py');
    const first = await session(root, cacheDir, tasks, nonEmpty);
    // Two lines added at the top: every finding moves down by two.
    fs.writeFileSync(tasks, '# moved\n# down\n' + fs.readFileSync(tasks, 'utf8'));
    const second = await session(root, cacheDir, tasks, nonEmpty);
    assert.match(second.cacheLog, /: 5 files unchanged, 1 read; no results for this state/);
    assert.deepEqual(codes(second.diagnostics), codes(first.diagnostics.map((d) => ({ ...d, range: { ...d.range, start: { ...d.range.start, line: d.range.start.line + 2 } } }))));
  });

  it('an open buffer that differs from the disk is analysed, not taken from the cache', async () => {
    const root = exampleCopy('buffer');
    const cacheDir = path.join(SCRATCH, 'buffer-cache');
    const main = path.join(root, 'main.py');
    const first = await session(root, cacheDir, main, nonEmpty);
    assert.ok(first.diagnostics.some((d) => d.code === 'SEC301'), codes(first.diagnostics).join(', '));
    // The buffer no longer allows credentials from every origin: SEC301 must go.
    const fixed = fs.readFileSync(main, 'utf8').replace('allow_credentials=True', 'allow_credentials=False');
    assert.notEqual(fixed, fs.readFileSync(main, 'utf8'));
    const second = await session(root, cacheDir, main, (ds) => !ds.some((d) => d.code === 'SEC301'), fixed);
    assert.match(second.cacheLog, /no results for this state/);
  });

  it('a corrupt cache file is ignored and replaced', async () => {
    const root = exampleCopy('corrupt');
    const cacheDir = path.join(SCRATCH, 'corrupt-cache');
    const tasks = path.join(root, 'routes', 'tasks.py');
    const first = await session(root, cacheDir, tasks, nonEmpty);
    const [name] = fs.readdirSync(path.join(cacheDir, 'index'));
    const file = path.join(cacheDir, 'index', name);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').slice(0, 200));
    const second = await session(root, cacheDir, tasks, nonEmpty);
    assert.match(second.cacheLog, /0 files unchanged, 6 read; no results for this state; the cache file found was ignored: not JSON/);
    assert.deepEqual(second.diagnostics, first.diagnostics);
    const third = await session(root, cacheDir, tasks, nonEmpty);
    assert.match(third.cacheLog, /6 files unchanged, 0 read; analysis results reused$/);
  });
});
