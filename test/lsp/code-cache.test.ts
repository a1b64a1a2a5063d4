/**
 * The bundled server's loader (server/src/lsp/loader.ts): with `--code-cache-dir` the first start writes a V8 code
 * cache once it has analysed the open file, a second start runs from it with the same diagnostics, and a damaged
 * or truncated cache file is never handed to V8 (the start is as without one, and the file is replaced).
 * Unit checks of the cache file format and of the argument. Runs on the bundle (dist/server/server.js, or
 * JWT_API_SECURITY_SERVER when it names a loader build).
 */
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { codeCacheDirArg, codeCacheFile, readCodeCache, writeCodeCache } from '../../server/src/lsp/loader';
import { REPO_ROOT } from '../support';
import { BUNDLED_SERVER, LspTestClient } from './harness';

const SCRATCH = fs.mkdtempSync(path.join(os.tmpdir(), 'jwt-api-security-code-cache-'));
after(() => fs.rmSync(SCRATCH, { recursive: true, force: true }));

const SERVER = process.env.JWT_API_SECURITY_SERVER ?? BUNDLED_SERVER;
const HAS_LOADER = fs.existsSync(path.join(path.dirname(SERVER), 'server-main.js'));

describe('code cache: file format and argument', () => {
  it('reads back what it wrote; a truncated, altered or foreign file reads as none', () => {
    const dir = path.join(SCRATCH, 'unit');
    const file = codeCacheFile(dir, 'source text');
    const payload = Buffer.from('not really V8 data, but bytes all the same');
    assert.equal(writeCodeCache(file, payload), undefined);
    assert.deepEqual(readCodeCache(file), payload);
    const whole = fs.readFileSync(file);
    fs.writeFileSync(file, whole.subarray(0, whole.length - 3));
    assert.equal(readCodeCache(file), undefined, 'truncated');
    const altered = Buffer.from(whole);
    altered[altered.length - 1] ^= 1;
    fs.writeFileSync(file, altered);
    assert.equal(readCodeCache(file), undefined, 'one bit flipped');
    fs.writeFileSync(file, payload);
    assert.equal(readCodeCache(file), undefined, 'no header');
    assert.equal(readCodeCache(path.join(dir, 'absent.bin')), undefined);
  });

  it('names the file by the bundle text; writing one removes the others', () => {
    const dir = path.join(SCRATCH, 'names');
    assert.notEqual(codeCacheFile(dir, 'a'), codeCacheFile(dir, 'b'));
    // Same length, other text: V8 would accept the data (it checks the length only); the name differs.
    assert.notEqual(codeCacheFile(dir, 'ab'), codeCacheFile(dir, 'ba'));
    writeCodeCache(codeCacheFile(dir, 'a'), Buffer.from('x'));
    writeCodeCache(codeCacheFile(dir, 'b'), Buffer.from('y'));
    assert.deepEqual(fs.readdirSync(dir), [path.basename(codeCacheFile(dir, 'b'))]);
  });

  it('takes the folder from --code-cache-dir=DIR or --code-cache-dir DIR, absolute only', () => {
    assert.equal(codeCacheDirArg(['--stdio', '--code-cache-dir=/x/y']), '/x/y');
    assert.equal(codeCacheDirArg(['--code-cache-dir', '/x/y', '--stdio']), '/x/y');
    assert.equal(codeCacheDirArg(['--code-cache-dir=relative']), undefined);
    assert.equal(codeCacheDirArg(['--stdio']), undefined);
  });
});

describe('code cache: the bundled server', { skip: HAS_LOADER ? false : `no loader build at ${SERVER}` }, () => {
  const root = path.join(REPO_ROOT, 'examples', 'todo-api');
  const tasks = path.join(root, 'routes', 'tasks.py');
  const dir = path.join(SCRATCH, 'server');
  const codes = (ds: Diagnostic[]) => ds.map((d) => `${d.code}@${d.range.start.line}`).sort();

  async function start(): Promise<{ diagnostics: Diagnostic[]; status: string }> {
    const client = await LspTestClient.start({ root, serverPath: SERVER, args: [`--code-cache-dir=${dir}`] });
    try {
      client.open(tasks);
      const diagnostics = await client.diagnosticsFor(tasks, (d) => d.length > 0, 60000);
      const status = client.logs.find((l) => l.message.startsWith('V8 code cache of the server: '))?.message ?? '';
      // The loader writes shortly after the server's first work.
      const whole = () => fs.existsSync(dir) && fs.readdirSync(dir).some((f) => f.endsWith('.bin') && readCodeCache(path.join(dir, f)) !== undefined);
      await client.waitFor('a whole code cache file', whole, 15000);
      return { diagnostics, status };
    } finally {
      await client.shutdown();
    }
  }

  it('the first start writes the cache, the second runs from it with the same diagnostics, a damaged one is replaced', async () => {
    const first = await start();
    assert.match(first.status, /: missing$/);
    const second = await start();
    assert.match(second.status, /: used$/);
    assert.deepEqual(codes(second.diagnostics), codes(first.diagnostics));
    const [name] = fs.readdirSync(dir);
    const file = path.join(dir, name);
    const whole = fs.readFileSync(file);
    fs.writeFileSync(file, whole.subarray(0, Math.floor(whole.length / 2)));
    const third = await start();
    assert.match(third.status, /: damaged$/);
    assert.deepEqual(codes(third.diagnostics), codes(first.diagnostics));
    assert.ok(readCodeCache(file), 'the damaged file was written again');
    assert.match((await start()).status, /: used$/);
  });
});
