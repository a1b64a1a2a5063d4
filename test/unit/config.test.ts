/**
 * core/config.ts: the nearest pyproject with a `[tool.jwt-api-security]` table, explicit files, the override
 * layer, caching per folder, and errors that name the file and the key.
 */
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError, ConfigResolver } from '../../server/src/core/config';
import { defaultSettings, normalizeSettings } from '../../server/src/core/settings';

const dirs: string[] = [];
function tree(files: Record<string, string>): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'jwt-api-security-config-')));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('ConfigResolver', () => {
  it('reads the nearest pyproject that has the table, skipping ones without it', () => {
    const dir = tree({
      'pyproject.toml': '[tool.jwt-api-security]\nsecret-env-var = "JWT_SECRET"\nowner-columns = ["org_id"]\n',
      'svc/pyproject.toml': '[project]\nname = "svc"\n',
      'svc/app/main.py': '',
    });
    const resolver = new ConfigResolver();
    const found = resolver.forDirectory(path.join(dir, 'svc', 'app'));
    assert.equal(found.file, path.join(dir, 'pyproject.toml'));
    assert.equal(found.baseDir, dir);
    assert.equal(found.settings.secretEnvVar, 'JWT_SECRET');
    assert.deepEqual(resolver.settingsFor(path.join(dir, 'svc', 'app', 'main.py')).ownerColumns, ['org_id']);
  });

  it('reads every documented key with its type', () => {
    const dir = tree({
      'pyproject.toml': [
        '[tool.jwt-api-security]',
        'select = ["JWT", "ISO203"]',
        'ignore = ["JWT110"]',
        'exclude = ["migrations/"]',
        'include-tests = true',
        'secret-env-var = "APP_SECRET"',
        'expected-algorithms = ["EdDSA"]',
        'owner-columns = ["user_id", "org_id"]',
        'auth-dependencies = ["app.deps:get_user"]',
        'max-file-size = 100000',
        '',
        '[tool.jwt-api-security.severity]',
        'JWT110 = "warning"',
        '',
      ].join('\n'),
    });
    const s = new ConfigResolver().forDirectory(dir).settings;
    assert.deepEqual(s, {
      ...defaultSettings(),
      select: ['JWT', 'ISO203'],
      ignore: ['JWT110'],
      exclude: ['migrations/'],
      includeTests: true,
      secretEnvVar: 'APP_SECRET',
      expectedAlgorithms: ['EdDSA'],
      ownerColumns: ['user_id', 'org_id'],
      authDependencies: ['app.deps:get_user'],
      maxFileSize: 100000,
      severity: { JWT110: 'warning' },
    });
  });

  it('falls back to defaults with no configuration anywhere up to the root', () => {
    const dir = tree({ 'a/b.py': '' });
    const found = new ConfigResolver({ defaultBaseDir: dir }).forDirectory(path.join(dir, 'a'));
    // A pyproject above the temporary folder would be a broken test environment, not a pass.
    assert.equal(found.file, undefined);
    assert.deepEqual(found.settings, defaultSettings());
    assert.equal(found.baseDir, dir);
  });

  it('caches per folder: a change on disk is not seen by the same resolver', () => {
    const dir = tree({ 'pyproject.toml': '[tool.jwt-api-security]\nignore = ["SEC"]\n' });
    const resolver = new ConfigResolver();
    assert.deepEqual(resolver.forDirectory(dir).settings.ignore, ['SEC']);
    fs.writeFileSync(path.join(dir, 'pyproject.toml'), '[tool.jwt-api-security]\nignore = ["JWT"]\n');
    assert.deepEqual(resolver.forDirectory(dir).settings.ignore, ['SEC']);
    assert.deepEqual(new ConfigResolver().forDirectory(dir).settings.ignore, ['JWT']);
  });

  it('an explicit file wins over the search; top-level keys are accepted there', () => {
    const dir = tree({ 'pyproject.toml': '[tool.jwt-api-security]\nignore = ["SEC"]\n', 'ci/strict.toml': 'select = ["ALL"]\n' });
    const found = new ConfigResolver({ configFile: path.join(dir, 'ci', 'strict.toml') }).forDirectory(dir);
    assert.deepEqual(found.settings.select, ['ALL']);
    assert.deepEqual(found.settings.ignore, []);
    assert.equal(found.baseDir, path.join(dir, 'ci'));
  });

  it('an explicit pyproject without the table means defaults; a dedicated file names keys without a prefix', () => {
    const dir = tree({ 'pyproject.toml': '[project]\nname = "x"\n', 'bad.toml': 'selekt = ["JWT"]\n' });
    assert.deepEqual(new ConfigResolver({ configFile: path.join(dir, 'pyproject.toml') }).forDirectory(dir).settings, defaultSettings());
    const err = configError(() => new ConfigResolver({ configFile: path.join(dir, 'bad.toml') }).forDirectory(dir));
    assert.equal(err.key, 'selekt');
  });

  it('applies the override layer on top of the file', () => {
    const dir = tree({ 'pyproject.toml': '[tool.jwt-api-security]\nignore = ["SEC"]\n' });
    const resolver = new ConfigResolver({ override: (s) => normalizeSettings({ 'include-tests': true }, 'command line', s) });
    const s = resolver.forDirectory(dir).settings;
    assert.equal(s.includeTests, true);
    assert.deepEqual(s.ignore, ['SEC']);
  });

  it('names the file and the key for an unknown key', () => {
    const dir = tree({ 'pyproject.toml': '[tool.jwt-api-security]\nowner-column = ["x"]\n' });
    const err = configError(() => new ConfigResolver().forDirectory(dir));
    assert.equal(err.file, path.join(dir, 'pyproject.toml'));
    assert.equal(err.key, 'tool.jwt-api-security.owner-column');
    assert.match(err.message, /is not a setting/);
  });

  it('names the file and the key for a wrong type, in a nested table too', () => {
    const dir = tree({ 'pyproject.toml': '[tool.jwt-api-security]\nmax-file-size = "2MB"\n' });
    const err = configError(() => new ConfigResolver().forDirectory(dir));
    assert.equal(err.key, 'tool.jwt-api-security.max-file-size');
    assert.match(err.detail, /positive number of bytes/);
    const dir2 = tree({ 'pyproject.toml': '[tool.jwt-api-security.severity]\nFOO101 = "warning"\n' });
    assert.equal(configError(() => new ConfigResolver().forDirectory(dir2)).key, 'tool.jwt-api-security.severity');
  });

  it('rejects a table that is not a table', () => {
    const dir = tree({ 'pyproject.toml': '[tool]\njwt-api-security = 3\n' });
    assert.equal(configError(() => new ConfigResolver().forDirectory(dir)).key, 'tool.jwt-api-security');
  });

  it('reports invalid TOML with its line, even in a pyproject without our table', () => {
    const dir = tree({ 'pyproject.toml': '[project]\nname = "x"\nversion = \n' });
    const err = configError(() => new ConfigResolver().forDirectory(dir));
    assert.equal(err.key, undefined);
    assert.match(err.message, /pyproject\.toml: is not valid TOML \(line 3, column \d+\)/);
  });

  it('describe() shows a display path in place of the absolute one', () => {
    const err = new ConfigError('/abs/pyproject.toml', 'tool.jwt-api-security.select', 'must be a list of strings');
    assert.equal(err.describe('pyproject.toml'), 'pyproject.toml: `tool.jwt-api-security.select` must be a list of strings');
  });
});
