/**
 * The server's persistent index cache in process: per-file facts (stat -> content hash) survive a restart and are
 * trusted only while the stat matches; indexing with the cache reads only changed files and hands the others to
 * the Workspace unread; analysis results are reused only in the workspace state they were computed in (no parse
 * at all), and a changed file, buffer or setting misses; corrupt, foreign, other-build and other-root cache files
 * are ignored, never trusted.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initParser } from '../../server/src/python/parser';
import { Analyzer, type Logger } from '../../server/src/lsp/analysis';
import { Folder, FolderWorkspace } from '../../server/src/lsp/folders';
import { cacheDirOption, IndexCache, workspaceStateKey, type FileStat } from '../../server/src/lsp/index-cache';
import { contentHash, indexFolder } from '../../server/src/lsp/indexer';
import { Workspace } from '../../server/src/workspace/workspace';
import { REPO_ROOT } from '../support';

const SCRATCH = fs.mkdtempSync(path.join(os.tmpdir(), 'jwt-api-security-index-cache-'));
after(() => fs.rmSync(SCRATCH, { recursive: true, force: true }));

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const MINUTE_AGO = new Date(Date.now() - 60_000);

/** A scratch copy of the example app with every mtime a minute back (files written just now are not cached). */
function exampleCopy(name: string): string {
  const root = path.join(SCRATCH, name);
  fs.cpSync(path.join(REPO_ROOT, 'examples', 'todo-api'), root, { recursive: true });
  backdate(root);
  return root;
}

function backdate(dir: string): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) backdate(full);
    else fs.utimesSync(full, MINUTE_AGO, MINUTE_AGO);
  }
}

function write(file: string, text: string): void {
  fs.writeFileSync(file, text);
  fs.utimesSync(file, MINUTE_AGO, new Date(Date.now() - 30_000));
}

interface IndexLog {
  read: string[];
  cached: { file: string; hash: string; load: () => string }[];
  notices: string[];
}

/** Indexes `folder` as the server does, recording which files were read and which were handed over unread. */
async function index(folder: Folder): Promise<IndexLog> {
  const log: IndexLog = { read: [], cached: [], notices: [] };
  await indexFolder(folder.root, {
    settingsFor: (dir) => folder.settings.forDirectory(dir),
    onFile: (file, text) => {
      log.read.push(path.relative(folder.root, file));
      folder.workspace.setFile(file, text);
    },
    onNotice: (n) => log.notices.push(n.message),
    isCancelled: () => false,
    cache: folder.cache,
    onCachedFile: (file, hash, load) => {
      log.cached.push({ file: path.relative(folder.root, file), hash, load });
      folder.workspace.setFileLazy(file, hash, load);
    },
  });
  return log;
}

const statOf = (file: string): FileStat => fs.statSync(file);
/** A value as it comes back from the cache file (JSON drops properties whose value is undefined). */
const asStored = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

describe('index cache: per-file facts', () => {
  it('keeps a file read over a minute ago across a reopen, and only while its stat matches', () => {
    const dir = path.join(SCRATCH, 'facts');
    const root = exampleCopy('facts-root');
    const file = path.join(root, 'main.py');
    const hash = contentHash(fs.readFileSync(file, 'utf8'));
    const cache = IndexCache.open(dir, root);
    cache.beginIndex();
    assert.equal(cache.lookup(file, statOf(file)), undefined, 'an empty cache knows nothing');
    cache.record(file, statOf(file), { hash });
    cache.finishIndex(true);
    assert.equal(cache.save(), undefined);

    const reopened = IndexCache.open(dir, root);
    assert.equal(reopened.rejected, undefined);
    reopened.beginIndex();
    assert.deepEqual(reopened.lookup(file, statOf(file)), { hash, warning: undefined });
    const st = statOf(file);
    assert.equal(reopened.lookup(file, { ...st, size: st.size + 1 }), undefined, 'another size');
    assert.equal(reopened.lookup(file, { ...st, mtimeMs: st.mtimeMs + 1 }), undefined, 'another mtime');
    assert.equal(reopened.lookup(file, { ...st, ino: st.ino + 1 }), undefined, 'another inode (replaced by a copy)');
    assert.equal(reopened.lookup(path.join(path.dirname(root), 'outside.py'), st), undefined, 'outside the root');
  });

  it('does not keep a file modified within two seconds of its read (its stat could hide a second change)', () => {
    const dir = path.join(SCRATCH, 'racy');
    const root = exampleCopy('racy-root');
    const file = path.join(root, 'db.py');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8') + '\n');
    const cache = IndexCache.open(dir, root);
    cache.beginIndex();
    cache.record(file, statOf(file), { hash: contentHash(fs.readFileSync(file, 'utf8')) });
    cache.finishIndex(true);
    cache.save();
    const reopened = IndexCache.open(dir, root);
    reopened.beginIndex();
    assert.equal(reopened.lookup(file, statOf(file)), undefined);
  });

  it('drops the entries of files that are gone after a complete index, keeps them after a cancelled one', () => {
    const dir = path.join(SCRATCH, 'drop');
    const root = exampleCopy('drop-root');
    const a = path.join(root, 'main.py');
    const b = path.join(root, 'db.py');
    const cache = IndexCache.open(dir, root);
    cache.beginIndex();
    cache.record(a, statOf(a), { hash: contentHash('a') });
    cache.record(b, statOf(b), { hash: contentHash('b') });
    cache.finishIndex(true);
    cache.beginIndex();
    assert.ok(cache.lookup(a, statOf(a)));
    cache.finishIndex(false);
    cache.beginIndex();
    assert.ok(cache.lookup(b, statOf(b)), 'a cancelled index keeps what it did not reach');
    cache.finishIndex(true);
    cache.beginIndex();
    assert.equal(cache.lookup(a, statOf(a)), undefined, 'a complete index that did not see a file drops it');
  });
});

describe('index cache: files that are not a valid cache of this build and folder are ignored', () => {
  const root = path.join(SCRATCH, 'reject-root');
  fs.mkdirSync(root, { recursive: true });
  const valid = () => {
    const dir = fs.mkdtempSync(path.join(SCRATCH, 'reject-'));
    const cache = IndexCache.open(dir, root, 'build-1');
    cache.useState('state');
    cache.storeResult(path.join(root, 'a.py'), { findings: [], notices: [] });
    cache.save();
    return { dir, file: cache.file, data: JSON.parse(fs.readFileSync(cache.file, 'utf8')) as Record<string, unknown> };
  };
  const cases: [string, (data: Record<string, unknown>) => unknown, RegExp][] = [
    ['not JSON', () => '{"format": "jwt-api-sec', /not JSON/],
    ['JSON of another tool', () => ({ version: 3, entries: [] }), /another format/],
    ['another schema', (d) => ({ ...d, schema: 2 }), /another format/],
    ['another build', (d) => ({ ...d, tool: 'build-2' }), /another build/],
    ['another folder', (d) => ({ ...d, root: path.join(SCRATCH, 'elsewhere') }), /another folder/],
    ['a file entry without a hash', (d) => ({ ...d, files: { 'a.py': { size: 1, mtimeMs: 1, ctimeMs: 1, ino: 1 } } }), /malformed file entries/],
    ['a file entry with a negative size', (d) => ({ ...d, files: { 'a.py': { size: -1, mtimeMs: 1, ctimeMs: 1, ino: 1, hash: contentHash('') } } }), /malformed file entries/],
    [
      'a finding with an unknown severity',
      (d) => ({ ...d, results: { state: 'state', files: { [path.join(root, 'a.py')]: { findings: [{ code: 'X', severity: 'fatal' }], notices: [] } } } }),
      /malformed results/,
    ],
    ['an array', () => [], /another format/],
  ];
  for (const [what, mutate, reason] of cases) {
    it(what, () => {
      const { dir, file, data } = valid();
      const replaced = mutate(data);
      fs.writeFileSync(file, typeof replaced === 'string' ? replaced : JSON.stringify(replaced));
      const cache = IndexCache.open(dir, root, 'build-1');
      assert.match(cache.rejected ?? '', reason);
      assert.equal(cache.useState('state'), false, 'no stored results are used');
      assert.equal(cache.result(path.join(root, 'a.py')), undefined);
      // The next write replaces the bad file with a valid one.
      cache.storeResult(path.join(root, 'a.py'), { findings: [], notices: [] });
      assert.equal(cache.save(), undefined);
      assert.equal(IndexCache.open(dir, root, 'build-1').rejected, undefined);
    });
  }

  it('a cache written by this build for this folder is used', () => {
    const { dir } = valid();
    const cache = IndexCache.open(dir, root, 'build-1');
    assert.equal(cache.rejected, undefined);
    assert.equal(cache.useState('state'), true);
    assert.deepEqual(cache.result(path.join(root, 'a.py')), { findings: [], notices: [] });
  });

  it('an unwritable cache directory is reported, not thrown', () => {
    const blocker = path.join(SCRATCH, 'blocker');
    fs.writeFileSync(blocker, 'a file where the cache directory should be');
    const cache = IndexCache.open(blocker, root, 'build-1');
    cache.useState('state');
    cache.storeResult(path.join(root, 'a.py'), { findings: [], notices: [] });
    assert.match(cache.save() ?? '', /could not write the index cache/);
  });

  it('cacheDirOption takes an absolute path and nothing else', () => {
    assert.equal(cacheDirOption({ cacheDir: '/tmp/x/' }), path.resolve('/tmp/x'));
    for (const bad of [undefined, null, 'x', [], { cacheDir: 'relative/dir' }, { cacheDir: '' }, { cacheDir: 42 }]) {
      assert.equal(cacheDirOption(bad), undefined, JSON.stringify(bad));
    }
  });
});

describe('index cache: indexing and analysis', () => {
  before(() => initParser());

  it('Workspace.setFileLazy reads the text on first use only, under the hash it was given', () => {
    const ws = new Workspace('/w');
    let loads = 0;
    ws.setFileLazy('/w/app/a.py', contentHash('x = 1\n'), () => {
      loads++;
      return 'x = 1\n';
    });
    const file = ws.file('/w/app/a.py')!;
    assert.equal(file.moduleName, 'app.a');
    assert.equal(file.hash, contentHash('x = 1\n'));
    assert.equal(loads, 0);
    assert.equal(ws.fileForModule('app.a')?.path, '/w/app/a.py', 'module resolution needs no text');
    assert.equal(file.text, 'x = 1\n');
    assert.equal(ws.file('/w/app/a.py')!.text, 'x = 1\n');
    assert.equal(loads, 1);
    assert.ok(ws.model('/w/app/a.py'), 'parsed from the loaded text');
    // The same content set again (the watcher, a closed editor) is no change.
    ws.setFile('/w/app/a.py', 'x = 1\n');
    assert.equal(ws.file('/w/app/a.py'), file);
  });

  it('a second index reads only what changed; unread files load their text on demand', async () => {
    const root = exampleCopy('reindex');
    const dir = path.join(SCRATCH, 'reindex-cache');
    const first = new Folder(root, {}, true, dir);
    const cold = await index(first);
    assert.equal(cold.cached.length, 0);
    assert.ok(cold.read.includes('main.py') && cold.read.includes(path.join('routes', 'tasks.py')));
    first.checkpoint();
    const texts = new Map(first.workspace.allFiles().map((f) => [f.path, f.text]));
    first.dispose();

    const second = new Folder(root, {}, true, dir);
    const warm = await index(second);
    const pythonFiles = cold.read.filter((f) => f.endsWith('.py')).sort();
    assert.deepEqual(warm.cached.map((c) => c.file).sort(), pythonFiles, 'every Python file handed over unread');
    assert.deepEqual(warm.read.sort(), cold.read.filter((f) => !f.endsWith('.py')).sort(), 'non-Python files are always read');
    for (const c of warm.cached) {
      const text = texts.get(path.join(root, c.file))!;
      assert.equal(c.hash, contentHash(text));
      assert.equal(c.load(), text);
    }
    second.dispose();

    write(path.join(root, 'db.py'), fs.readFileSync(path.join(root, 'db.py'), 'utf8') + '\n# changed\n');
    fs.rmSync(path.join(root, 'models.py'));
    const third = new Folder(root, {}, true, dir);
    const after = await index(third);
    assert.deepEqual(after.read.filter((f) => f.endsWith('.py')), ['db.py'], 'only the changed file is read');
    assert.ok(!after.cached.some((c) => c.file === 'models.py'));
    assert.equal(third.workspace.file(path.join(root, 'db.py'))!.hash, contentHash(fs.readFileSync(path.join(root, 'db.py'), 'utf8')));
    third.dispose();
  });

  it('reuses analysis results only in the state they were computed in, without parsing anything', async () => {
    const root = exampleCopy('results');
    const dir = path.join(SCRATCH, 'results-cache');
    const analyzer = new Analyzer(quiet);
    const tasks = path.join(root, 'routes', 'tasks.py');

    const first = new Folder(root, {}, true, dir);
    await index(first);
    assert.match(first.checkpoint()!, /no results for this state/);
    const fresh = first.analyze(analyzer, tasks);
    const workspaceLevel = first.workspaceLevel(analyzer);
    assert.ok(fresh.findings.length > 0, 'the example has findings in routes/tasks.py');
    first.dispose();

    const second = new Folder(root, {}, true, dir);
    const warm = await index(second);
    assert.match(second.checkpoint()!, /analysis results reused/);
    assert.deepEqual(second.analyze(analyzer, tasks), asStored(fresh));
    assert.deepEqual(second.workspaceLevel(analyzer), asStored(workspaceLevel));
    assert.equal(second.workspace.modelsBuilt, 0, 'nothing was parsed');
    assert.ok(warm.cached.length > 0);

    // An edit (here a buffer that differs from the disk) leaves the cached state: analysed afresh.
    const edited = fs.readFileSync(tasks, 'utf8').replace(/^/, '# edited\n');
    second.workspace.setFile(tasks, edited);
    const afterEdit = second.analyze(analyzer, tasks);
    assert.ok(second.workspace.modelsBuilt > 0, 'analysed, not taken from the cache');
    assert.equal(afterEdit.findings[0].range.start.line, fresh.findings[0].range.start.line + 1);
    second.dispose();

    // Other editor settings: another state, so nothing is reused.
    const third = new Folder(root, { select: ['SEC305'] }, true, dir);
    await index(third);
    assert.match(third.checkpoint()!, /no results for this state/);
    assert.ok(third.analyze(analyzer, tasks).findings.every((f) => f.code === 'SEC305'));
    third.dispose();
  });

  it('FolderWorkspace counts the calls that change what the analysis sees, and only those', () => {
    const ws = new FolderWorkspace('/w');
    ws.setFile('/w/a.py', 'x = 1\n');
    ws.setFile('/w/requirements.txt', 'pyjwt\n');
    ws.setFileLazy('/w/b.py', contentHash('y = 2\n'), () => 'y = 2\n');
    const base = ws.changes;
    assert.equal(base, 3);
    ws.setFile('/w/a.py', 'x = 1\n');
    ws.setFile('/w/b.py', 'y = 2\n');
    ws.setFile('/w/requirements.txt', 'pyjwt\n');
    ws.removeFile('/w/absent.py');
    assert.equal(ws.changes, base, 'the same texts again and removing what is not there change nothing');
    ws.setFile('/w/a.py', 'x = 2\n');
    ws.setFile('/w/requirements.txt', 'pyjwt==2.9.0\n');
    ws.removeFile('/w/b.py');
    ws.settingsChanged();
    assert.equal(ws.changes, base + 4);
  });

  it('the state key covers file contents, the file set, non-Python files and settings, and no file text', () => {
    const ws = new Workspace('/w');
    let loads = 0;
    ws.setFileLazy('/w/a.py', contentHash('a'), () => {
      loads++;
      return 'a';
    });
    ws.setFile('/w/requirements.txt', 'pyjwt==2.9.0\n');
    const settings = (dir: string) => (dir === '/w' ? 'root settings' : 'other settings');
    const key = workspaceStateKey(ws, settings);
    assert.equal(loads, 0);
    assert.equal(workspaceStateKey(ws, settings), key, 'deterministic');
    assert.notEqual(workspaceStateKey(ws, () => '{"select":["JWT"]}'), key, 'settings');
    ws.setFile('/w/requirements.txt', 'pyjwt==1.7.0\n');
    const key2 = workspaceStateKey(ws, settings);
    assert.notEqual(key2, key, 'a non-Python file');
    ws.setFile('/w/b.py', '');
    const key3 = workspaceStateKey(ws, settings);
    assert.notEqual(key3, key2, 'the file set');
    ws.setFile('/w/b.py', 'x = 1');
    assert.notEqual(workspaceStateKey(ws, settings), key3, 'a file content');
    ws.setFile('/w/b.py', '');
    assert.equal(workspaceStateKey(ws, settings), key3, 'back to the same state');
  });
});

describe('index cache: every way a cached index could be stale', () => {
  before(() => initParser());

  /** What the Workspace holds after an index: every file (Python and other) with a hash of its text. */
  function snapshot(folder: Folder): string[] {
    const ws = folder.workspace;
    return [
      ...ws.allFiles().map((f) => `${path.relative(folder.root, f.path)} ${f.hash}`),
      ...ws.auxFilePaths().map((f) => `${path.relative(folder.root, f)} ${contentHash(ws.auxFile(f) ?? '')}`),
    ].sort();
  }

  /** Indexes `root` with the cache in `dir` (and writes the cache), and without any cache; returns both snapshots. */
  async function both(root: string, dir: string): Promise<{ cached: string[]; fresh: string[]; log: IndexLog }> {
    const withCache = new Folder(root, {}, true, dir);
    const log = await index(withCache);
    withCache.checkpoint();
    const cached = snapshot(withCache);
    withCache.dispose();
    const plain = new Folder(root, {}, true);
    await index(plain);
    const fresh = snapshot(plain);
    plain.dispose();
    return { cached, fresh, log };
  }

  const cases: [string, (root: string) => void, (s: string[]) => boolean][] = [
    [
      'a file edited to the same size, its mtime put back (the ctime still moves)',
      (root) => {
        const file = path.join(root, 'db.py');
        const st = fs.statSync(file);
        const text = fs.readFileSync(file, 'utf8');
        fs.writeFileSync(file, text.replace('engine', 'enGine'));
        fs.utimesSync(file, st.atime, st.mtime);
      },
      (s) => s.some((l) => l.startsWith('db.py ')),
    ],
    [
      'a file replaced by another of the same size and mtime (a rename over it: another inode)',
      (root) => {
        const file = path.join(root, 'db.py');
        const st = fs.statSync(file);
        const other = path.join(root, 'db.py.new');
        fs.writeFileSync(other, fs.readFileSync(file, 'utf8').replace('engine', 'enGine'));
        fs.utimesSync(other, st.atime, st.mtime);
        fs.renameSync(other, file);
      },
      () => true,
    ],
    ['a file added to a cached folder', (root) => write(path.join(root, 'routes', 'extra.py'), 'x = 1\n'), (s) => s.some((l) => l.startsWith(path.join('routes', 'extra.py')))],
    [
      'a folder added',
      (root) => {
        fs.mkdirSync(path.join(root, 'newpkg'));
        write(path.join(root, 'newpkg', '__init__.py'), 'y = 2\n');
      },
      (s) => s.some((l) => l.startsWith(path.join('newpkg', '__init__.py'))),
    ],
    ['a folder removed', (root) => fs.rmSync(path.join(root, 'routes'), { recursive: true }), (s) => !s.some((l) => l.startsWith('routes'))],
    ['a file removed', (root) => fs.rmSync(path.join(root, 'models.py')), (s) => !s.some((l) => l.startsWith('models.py'))],
    [
      '.gitignore changed to ignore a cached file (same size as before)',
      (root) => {
        const file = path.join(root, '.gitignore');
        const text = fs.readFileSync(file, 'utf8');
        const line = 'models.py\n';
        // Same length: the old text's first characters make way for the new line.
        fs.writeFileSync(file, line + text.slice(line.length));
      },
      (s) => !s.some((l) => l.startsWith('models.py ')),
    ],
    ['a .gitignore added in a subfolder', (root) => write(path.join(root, 'routes', '.gitignore'), 'tasks.py\n'), (s) => !s.some((l) => l.startsWith(path.join('routes', 'tasks.py')))],
    ['a folder that became a virtual environment (pyvenv.cfg)', (root) => write(path.join(root, 'routes', 'pyvenv.cfg'), 'home = /usr\n'), (s) => !s.some((l) => l.startsWith('routes'))],
    [
      'an exclude added to pyproject.toml',
      (root) => {
        const file = path.join(root, 'pyproject.toml');
        fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('exclude = [".venv/**"]', 'exclude = [".venv/**", "routes/"]'));
      },
      (s) => !s.some((l) => l.startsWith('routes')),
    ],
    ['a file turned into a folder of the same name', (root) => {
      fs.rmSync(path.join(root, 'db.py'));
      fs.mkdirSync(path.join(root, 'db.py'));
      write(path.join(root, 'db.py', 'inner.py'), 'z = 3\n');
    }, (s) => s.some((l) => l.startsWith(path.join('db.py', 'inner.py')))],
  ];

  for (const [what, change, seen] of cases) {
    it(what, async () => {
      const name = what.replace(/\W+/g, '-').slice(0, 40);
      const root = exampleCopy(`stale-${name}`);
      const dir = path.join(SCRATCH, `stale-${name}-cache`);
      const before = await both(root, dir);
      assert.deepEqual(before.cached, before.fresh);
      // A second cached index of the unchanged folder reads no Python file.
      const again = await both(root, dir);
      assert.deepEqual(again.cached, again.fresh);
      assert.deepEqual(again.log.read.filter((f) => f.endsWith('.py')), []);
      change(root);
      const after = await both(root, dir);
      assert.deepEqual(after.cached, after.fresh, 'the cached index sees what a fresh one sees');
      assert.notDeepEqual(after.fresh, before.fresh, 'the change is visible');
      assert.ok(seen(after.cached), 'the change is in the cached index');
    });
  }
});
