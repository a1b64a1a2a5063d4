/**
 * The --fix writer: atomic replace, bytes kept the way they were stored, and refusal when the file changed or
 * vanished since it was read, or is not plain UTF-8.
 */
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeFixedFile } from '../../server/src/cli/write-file';
import { decodeSource } from '../../server/src/core/source-text';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jwt-api-security-write-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function original(file: string, bytes: Buffer) {
  fs.writeFileSync(file, bytes);
  const decoded = decodeSource(bytes);
  assert.ok(decoded.ok);
  return { source: decoded.source, bytes };
}

describe('writeFixedFile', () => {
  it('replaces the file, keeping BOM, CRLF and mode, and leaves no temporary file', () => {
    const file = path.join(dir, 'a.py');
    const orig = original(file, Buffer.from('\uFEFFx = 1\r\ny = 2\r\n', 'utf8'));
    fs.chmodSync(file, 0o600);
    const r = writeFixedFile(file, 'import os\nx = 1\r\ny = 3\r\n', orig);
    assert.deepEqual(r, { ok: true });
    assert.equal(fs.readFileSync(file, 'utf8'), '\uFEFFimport os\r\nx = 1\r\ny = 3\r\n');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  });

  it('refuses when the file changed on disk since it was read', () => {
    const file = path.join(dir, 'b.py');
    const orig = original(file, Buffer.from('x = 1\n'));
    fs.writeFileSync(file, 'x = 2\n');
    const r = writeFixedFile(file, 'x = 3\n', orig);
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /changed on disk/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'x = 2\n');
  });

  it('refuses when the file was deleted during the run', () => {
    const file = path.join(dir, 'c.py');
    const orig = original(file, Buffer.from('x = 1\n'));
    fs.unlinkSync(file);
    const r = writeFixedFile(file, 'x = 3\n', orig);
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /deleted during the run/);
    assert.equal(fs.existsSync(file), false);
  });

  it('refuses a file that is not plain UTF-8', () => {
    const file = path.join(dir, 'd.py');
    const orig = original(file, Buffer.from([0x78, 0x20, 0x3d, 0x20, 0xff, 0x0a]));
    const r = writeFixedFile(file, 'x = 2\n', orig);
    assert.equal(r.ok, false);
    assert.ok(fs.readFileSync(file).equals(orig.bytes));
  });
});
