/**
 * core/discover.ts and core/source-text.ts: which files a walk finds (.gitignore layers and negations, excludes,
 * skipped folders, aux files, explicit files, symlinks), and how each is read (size limit, binary, BOM, encodings,
 * deletion) and written back (BOM and CRLF kept).
 */
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readSourceFile, walk } from '../../server/src/core/discover';
import { codingCookie, decodeSource, detectLineEnding, encodeSource } from '../../server/src/core/source-text';

const dirs: string[] = [];
function tree(files: Record<string, string | Buffer>): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'jwt-api-security-walk-')));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const rel = (dir: string, files: { path: string }[]) => files.map((f) => path.relative(dir, f.path).split(path.sep).join('/'));

describe('walk', () => {
  it('finds Python files and the files the analysis reads, and skips environments and caches', () => {
    const dir = tree({
      'app/main.py': '',
      'app/notes.txt': '',
      'requirements.txt': '',
      'requirements-dev.txt': '',
      'pyproject.toml': '',
      'uv.lock': '',
      'poetry.lock': '',
      'Pipfile.lock': '',
      '.env': '',
      '.env.production': '',
      '.gitignore': '',
      'app/__pycache__/main.cpython-312.py': '',
      '.venv/lib/x.py': '',
      'venv/lib/x.py': '',
      'myenv/pyvenv.cfg': '',
      'myenv/lib/x.py': '',
      'node_modules/x/y.py': '',
      '.git/hooks/x.py': '',
      '.tox/py312/x.py': '',
    });
    const r = walk([dir]);
    assert.deepEqual(r.notices, []);
    assert.deepEqual(rel(dir, r.files), [
      '.env',
      '.env.production',
      '.gitignore',
      'Pipfile.lock',
      'app/main.py',
      'poetry.lock',
      'pyproject.toml',
      'requirements-dev.txt',
      'requirements.txt',
      'uv.lock',
    ]);
    assert.equal(r.files.find((f) => f.path.endsWith('main.py'))?.kind, 'python');
    assert.equal(r.files.find((f) => f.path.endsWith('uv.lock'))?.kind, 'aux');
  });

  it('respects nested .gitignore files, negations, and the repository root above the walked folder', () => {
    const dir = tree({
      '.git/info/exclude': 'local_only.py\n',
      '.gitignore': 'build/\n*.gen.py\n!keep.gen.py\n',
      'svc/.gitignore': 'scratch/\n!important.gen.py\n',
      'svc/app.py': '',
      'svc/a.gen.py': '',
      'svc/important.gen.py': '',
      'svc/keep.gen.py': '',
      'svc/scratch/x.py': '',
      'svc/local_only.py': '',
      'svc/build/x.py': '',
      'svc/.env': 'SECRET=x\n',
    });
    fs.appendFileSync(path.join(dir, '.gitignore'), '.env\n');
    // Walking the subfolder still applies the repository root's .gitignore and .git/info/exclude.
    const r = walk([path.join(dir, 'svc')]);
    assert.deepEqual(rel(dir, r.files), ['svc/.env', 'svc/.gitignore', 'svc/app.py', 'svc/important.gen.py', 'svc/keep.gen.py']);
    const all = walk([path.join(dir, 'svc')], { respectGitignore: false });
    assert.equal(all.files.length, 9);
  });

  it('a stray .gitignore above a folder that is not in a repository is not applied', () => {
    const outer = tree({ '.gitignore': '*.py\n', 'inner/app.py': '' });
    assert.deepEqual(rel(outer, walk([path.join(outer, 'inner')]).files), ['inner/app.py']);
  });

  it('applies exclude patterns relative to their configuration folder', () => {
    const dir = tree({ 'app/main.py': '', 'app/migrations/0001.py': '', 'legacy/x.py': '', 'legacy/requirements.txt': '' });
    const r = walk([dir], { excludeFor: () => ({ patterns: ['migrations/', '/legacy'], baseDir: dir }) });
    assert.deepEqual(rel(dir, r.files), ['app/main.py']);
  });

  it('takes explicitly named files even when ignored, and says when a file is not one it reads', () => {
    const dir = tree({ '.gitignore': 'x.py\n', 'x.py': '', 'README.md': '' });
    const r = walk([path.join(dir, 'x.py'), path.join(dir, 'README.md')]);
    assert.deepEqual(rel(dir, r.files), ['x.py']);
    assert.equal(r.notices.length, 1);
    assert.match(r.notices[0].message, /not a Python file/);
  });

  it('walks an explicitly named folder even when its name is one it skips', () => {
    const dir = tree({ 'venv/tool.py': '' });
    assert.deepEqual(rel(dir, walk([path.join(dir, 'venv')]).files), ['venv/tool.py']);
  });

  it('follows symlinks once and reports loops', () => {
    const dir = tree({ 'pkg/a.py': '', 'real/b.py': '' });
    fs.symlinkSync(path.join(dir, 'real'), path.join(dir, 'pkg', 'linked'));
    fs.symlinkSync(path.join(dir, 'pkg'), path.join(dir, 'pkg', 'again'));
    fs.symlinkSync(path.join(dir, 'loop'), path.join(dir, 'loop'));
    fs.symlinkSync(path.join(dir, 'gone'), path.join(dir, 'dangling.py'));
    const r = walk([path.join(dir, 'pkg'), path.join(dir, 'real')]);
    assert.deepEqual(rel(dir, r.files), ['pkg/a.py', 'pkg/linked/b.py']);
    assert.ok(r.notices.some((n) => n.file === path.join(dir, 'pkg', 'again') && /already walked/.test(n.message)));
    assert.ok(r.notices.some((n) => n.file === path.join(dir, 'real') && /already walked/.test(n.message)));
    const loop = walk([dir]);
    assert.ok(loop.notices.some((n) => n.file === path.join(dir, 'loop') && /symbolic link loop/.test(n.message)));
    assert.ok(!loop.notices.some((n) => n.file?.endsWith('dangling.py')), 'a dangling link is not worth a notice');
  });

  it('reports a missing input path instead of throwing', () => {
    const dir = tree({});
    const r = walk([path.join(dir, 'nope')]);
    assert.deepEqual(r.files, []);
    assert.equal(r.notices[0].level, 'error');
  });

  it('survives names the ignore library rejects', () => {
    const dir = tree({ '.gitignore': '*.tmp\n', '.../x.py': '' });
    assert.deepEqual(rel(dir, walk([dir]).files), ['.../x.py', '.gitignore']);
  });
});

describe('readSourceFile', () => {
  it('skips files over the size limit, binary files and deleted files with notices', () => {
    const dir = tree({ 'big.py': 'x = 1\n'.repeat(100), 'bin.py': Buffer.from([0x41, 0x00, 0x42]) });
    const big = readSourceFile(path.join(dir, 'big.py'), 'python', 100);
    assert.equal(big.ok, false);
    assert.match(big.notice!.message, /larger than max-file-size \(600 bytes > 100 bytes\)/);
    const bin = readSourceFile(path.join(dir, 'bin.py'), 'python', 1000);
    assert.equal(bin.ok, false);
    assert.match(bin.notice!.message, /binary/);
    fs.mkdirSync(path.join(dir, 'folder.py'));
    const unreadable = readSourceFile(path.join(dir, 'folder.py'), 'python', 1000);
    assert.equal(unreadable.ok, false);
    assert.match(unreadable.notice!.message, /no longer a regular file/);
    const gone = readSourceFile(path.join(dir, 'gone.py'), 'python', 1000);
    assert.equal(gone.ok, false);
    assert.match(gone.notice!.message, /deleted during the run/);
  });

  it('reads UTF-8 with a BOM exactly, and keeps the bytes for the writer', () => {
    const dir = tree({ 'a.py': Buffer.from('\uFEFFx = "é"\r\n', 'utf8') });
    const r = readSourceFile(path.join(dir, 'a.py'), 'python', 1000);
    assert.ok(r.ok);
    if (!r.ok) return;
    assert.equal(r.file.source.text, 'x = "é"\r\n');
    assert.equal(r.file.source.bom, true);
    assert.equal(r.file.source.lineEnding, 'crlf');
    assert.equal(r.file.source.writable, true);
    assert.equal(r.notice, undefined);
    assert.equal(r.file.bytes.length, fs.statSync(path.join(dir, 'a.py')).size);
  });
});

describe('source-text', () => {
  it('decodes a declared latin-1 file by its cookie, read-only', () => {
    const bytes = Buffer.concat([Buffer.from('# -*- coding: latin-1 -*-\nname = "caf'), Buffer.from([0xe9]), Buffer.from('"\n')]);
    const r = decodeSource(bytes);
    assert.ok(r.ok);
    if (!r.ok) return;
    assert.match(r.source.text, /café/);
    assert.equal(r.source.encoding, 'latin-1');
    assert.equal(r.source.writable, false);
    assert.match(r.warning!, /latin-1/);
  });

  it('decodes undeclared bad UTF-8 leniently, read-only, with a warning', () => {
    const r = decodeSource(Buffer.from([0x78, 0x20, 0x3d, 0x20, 0xff, 0x0a]));
    assert.ok(r.ok);
    if (!r.ok) return;
    assert.equal(r.source.text, 'x = \uFFFD\n');
    assert.equal(r.source.exact, false);
    assert.equal(r.source.writable, false);
    assert.match(r.warning!, /not valid UTF-8/);
  });

  it('finds coding cookies on line 1 or 2 only, after a comment', () => {
    assert.equal(codingCookie(Buffer.from('#!/usr/bin/env python\n# coding=cp1252\n')), 'cp1252');
    assert.equal(codingCookie(Buffer.from('import os\n# coding: latin-1\n')), undefined);
    assert.equal(codingCookie(Buffer.from('\n\n# coding: latin-1\n')), undefined);
  });

  it('detects line endings', () => {
    assert.equal(detectLineEnding('a\r\nb\r\n'), 'crlf');
    assert.equal(detectLineEnding('a\nb\n'), 'lf');
    assert.equal(detectLineEnding('a\r\nb\n'), 'mixed');
    assert.equal(detectLineEnding('a'), 'none');
  });

  it('encodes fixed text back with the BOM and CRLF, leaving mixed endings alone', () => {
    assert.deepEqual(encodeSource('a\r\nimport os\nb\r\n', { bom: true, lineEnding: 'crlf' }), Buffer.from('\uFEFFa\r\nimport os\r\nb\r\n', 'utf8'));
    assert.deepEqual(encodeSource('a\r\nb\n', { bom: false, lineEnding: 'mixed' }), Buffer.from('a\r\nb\n'));
    assert.deepEqual(encodeSource('a\n', { bom: false, lineEnding: 'lf' }), Buffer.from('a\n'));
  });
});
