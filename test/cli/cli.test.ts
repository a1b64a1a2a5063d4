/**
 * The CLI as a user runs it: the compiled command in a child process, on projects written to temporary folders.
 * Exit codes (0 clean, 1 findings, 2 usage/config errors), text output, flags, --fix/--diff, .gitignore and
 * hostile inputs. Formats (JSON, SARIF) have their own test file.
 */
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { CLEAN_APP, CLI_MAIN, DEBUG_APP, OUT_DIR, makeProject, removeProject, runCli } from './helpers';
import { REPO_ROOT } from '../support';

const projects: string[] = [];
function project(files: Record<string, string | Buffer>): string {
  const dir = makeProject(files);
  projects.push(dir);
  return dir;
}
after(() => projects.forEach(removeProject));

describe('cli: basics', () => {
  it('prints its version from package.json', () => {
    const r = runCli(['--version'], { cwd: REPO_ROOT });
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), `jwt-api-security ${pkg.version}`);
  });

  it('prints help with the exit codes', () => {
    const r = runCli(['--help'], { cwd: REPO_ROOT });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage:/);
    assert.match(r.stdout, /--unsafe-fixes/);
    assert.match(r.stdout, /2 {2}usage or configuration error/);
  });

  it('exits 2 on an unknown flag, suggesting the right one', () => {
    const r = runCli(['--formt', 'json'], { cwd: REPO_ROOT });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option --formt \(did you mean --format\?\)/);
    assert.equal(r.stdout, '');
  });

  it('exits 2 on a bad flag value', () => {
    assert.equal(runCli(['--format', 'xml', '.'], { cwd: REPO_ROOT }).code, 2);
    assert.equal(runCli(['--severity', 'high', '.'], { cwd: REPO_ROOT }).code, 2);
    assert.equal(runCli(['--select', 'FOO1', '.'], { cwd: REPO_ROOT }).code, 2);
    assert.equal(runCli(['--unsafe-fixes', '.'], { cwd: REPO_ROOT }).code, 2);
    assert.equal(runCli(['--fix', '--diff', '.'], { cwd: REPO_ROOT }).code, 2);
    const typo = runCli(['--ignore', 'JWT199', '.'], { cwd: REPO_ROOT });
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /no rule matches "JWT199"/);
  });

  it('exits 2 when a path does not exist', () => {
    const dir = project({ 'app.py': CLEAN_APP });
    const r = runCli(['missing-folder'], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /missing-folder: no such file or folder/);
  });

  it('exits 0 on a clean project', () => {
    const dir = project({ 'app.py': CLEAN_APP });
    const r = runCli([], { cwd: dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /No findings\./);
  });

  it('exits 1 with findings, in Ruff style with a relative path, the source line and a caret underline', () => {
    const dir = project({ 'app/main.py': DEBUG_APP });
    const r = runCli(['app'], { cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.split('\n');
    const head = lines.findIndex((l) => l.startsWith('app/main.py:3:15: SEC305 [*] '));
    assert.ok(head >= 0, r.stdout);
    assert.equal(lines[head + 2], '3 | app = FastAPI(debug=True)');
    assert.equal(lines[head + 3], '  |               ^^^^^^^^^^ SEC305 (suggestion)');
    assert.match(r.stdout, /= help: Set `debug=False`/);
    assert.match(r.stdout, /Found 1 finding \(1 suggestion\)\./);
    assert.match(r.stdout, /\[\*\] 1 fixable with the `--fix` option\./);
    assert.doesNotMatch(r.stdout, /\u001b\[/, 'no colour when stdout is not a TTY');
  });

  it('colours only when asked (FORCE_COLOR) and never with NO_COLOR', () => {
    const dir = project({ 'app.py': DEBUG_APP });
    assert.match(runCli([], { cwd: dir, env: { FORCE_COLOR: '1' } }).stdout, /\u001b\[/);
    assert.doesNotMatch(runCli([], { cwd: dir, env: { FORCE_COLOR: '1', NO_COLOR: '1' } }).stdout, /\u001b\[/);
  });

  it('--exit-zero exits 0 with findings; --quiet drops the summary', () => {
    const dir = project({ 'app.py': DEBUG_APP });
    const r = runCli(['--exit-zero', '--quiet'], { cwd: dir });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /app\.py:3:15: SEC305/);
    assert.doesNotMatch(r.stdout, /Found/);
  });

  it('--severity sets the threshold for listing and the exit code', () => {
    const dir = project({ 'app.py': DEBUG_APP });
    const r = runCli(['--severity', 'warning'], { cwd: dir });
    assert.equal(r.code, 0, r.stdout);
    assert.doesNotMatch(r.stdout, /SEC305/);
    assert.match(r.stdout, /1 finding below the `--severity warning` threshold not shown/);
    assert.equal(runCli(['--severity', 'suggestion'], { cwd: dir }).code, 1);
  });

  it('--select and --ignore choose rules by code or prefix', () => {
    const dir = project({ 'app.py': DEBUG_APP });
    assert.equal(runCli(['--select', 'JWT'], { cwd: dir }).code, 0);
    assert.equal(runCli(['--select', 'SEC'], { cwd: dir }).code, 1);
    assert.equal(runCli(['--ignore', 'SEC305'], { cwd: dir }).code, 0);
    assert.equal(runCli(['--select', 'JWT,SEC3'], { cwd: dir }).code, 1);
  });

  it('--statistics counts findings per rule', () => {
    const dir = project({ 'app.py': DEBUG_APP, 'other.py': 'import uvicorn\nuvicorn.run("app:app", debug=True)\n' });
    const r = runCli(['--statistics'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^2\tSEC305\t\[\*\] debug-enabled$/m);
  });

  it('--output writes the report to a file and nothing to stdout', () => {
    const dir = project({ 'app.py': DEBUG_APP });
    const r = runCli(['--output', 'out.txt', 'app.py'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(fs.readFileSync(path.join(dir, 'out.txt'), 'utf8'), /app\.py:3:15: SEC305/);
  });

  it('findings in tests are reported only with --include-tests', () => {
    const dir = project({ 'tests/test_app.py': DEBUG_APP, 'app.py': CLEAN_APP });
    assert.equal(runCli([], { cwd: dir }).code, 0);
    const r = runCli(['--include-tests'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /tests\/test_app\.py:3:15: SEC305/);
  });

  it('`rule CODE` prints the rule page; an unknown code exits 2; `rule` lists every rule', () => {
    const r = runCli(['rule', 'sec305'], { cwd: REPO_ROOT });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^# SEC305: debug-enabled/);
    assert.match(r.stdout, /## Fix safety/);
    assert.equal(runCli(['rule', 'XYZ999'], { cwd: REPO_ROOT }).code, 2);
    const list = runCli(['rule'], { cwd: REPO_ROOT });
    assert.equal(list.code, 0);
    assert.match(list.stdout, /^JWT101 +unverified-signature +critical/m);
    assert.match(list.stdout, /^SUP001 /m);
  });

  it('the bin launcher runs the CLI', { skip: OUT_DIR !== path.join(REPO_ROOT, 'out') && 'tests compiled outside out/; the launcher loads out/' }, () => {
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'jwt-api-security.js'), '--version'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^jwt-api-security \d+\.\d+\.\d+/);
  });

  it('the compiled CLI exists where the launcher expects it relative to the build', () => {
    assert.ok(fs.existsSync(CLI_MAIN), CLI_MAIN);
  });
});

describe('cli: configuration errors exit 2 naming the file and the key', () => {
  it('an unknown key', () => {
    const dir = project({ 'app.py': CLEAN_APP, 'pyproject.toml': '[tool.jwt-api-security]\nselekt = ["JWT"]\n' });
    const r = runCli([], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pyproject\.toml: `tool\.jwt-api-security\.selekt` is not a setting/);
  });

  it('a value of the wrong type', () => {
    const dir = project({ 'app.py': CLEAN_APP, 'pyproject.toml': '[tool.jwt-api-security]\ninclude-tests = "yes"\n' });
    const r = runCli([], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pyproject\.toml: `tool\.jwt-api-security\.include-tests` must be true or false/);
  });

  it('a file that is not TOML', () => {
    const dir = project({ 'app.py': CLEAN_APP, 'pyproject.toml': '[project\nname = "x"\n' });
    const r = runCli([], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pyproject\.toml: is not valid TOML \(line 1, column \d+\)/);
  });

  it('a broken pyproject in a subfolder, found while walking', () => {
    const dir = project({ 'app.py': CLEAN_APP, 'svc/pyproject.toml': '[tool.jwt-api-security]\nseverity = { JWT101 = "high" }\n', 'svc/x.py': CLEAN_APP });
    const r = runCli([], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /svc\/pyproject\.toml: `tool\.jwt-api-security\.severity` for JWT101 must be one of critical, warning, suggestion/);
  });

  it('--config names a missing file', () => {
    const dir = project({ 'app.py': CLEAN_APP });
    const r = runCli(['--config', 'nope.toml'], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nope\.toml: configuration file not found/);
  });
});

describe('cli: configuration is applied', () => {
  it('pyproject ignore, and --select on the command line replacing it as in Ruff', () => {
    const dir = project({ 'app.py': DEBUG_APP, 'pyproject.toml': '[project]\nname = "x"\n\n[tool.jwt-api-security]\nignore = ["SEC305"]\n' });
    assert.equal(runCli([], { cwd: dir }).code, 0);
    assert.equal(runCli(['--select', 'SEC305'], { cwd: dir }).code, 1);
  });

  it('severity overrides change the threshold outcome', () => {
    const dir = project({ 'app.py': DEBUG_APP, 'pyproject.toml': '[tool.jwt-api-security]\nseverity = { SEC305 = "critical" }\n' });
    const r = runCli(['--severity', 'critical'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /SEC305 \(critical\)/);
  });

  it('exclude globs, relative to the pyproject folder', () => {
    const dir = project({ 'app.py': CLEAN_APP, 'legacy/old.py': DEBUG_APP, 'pyproject.toml': '[tool.jwt-api-security]\nexclude = ["legacy/"]\n' });
    assert.equal(runCli([], { cwd: dir }).code, 0);
    assert.equal(runCli([], { cwd: path.join(dir, 'legacy') }).code, 0, 'excluded even when the walk starts below the pyproject');
  });

  it('--config FILE with top-level keys', () => {
    const dir = project({ 'app.py': DEBUG_APP, 'ci.toml': 'ignore = ["SEC"]\n' });
    assert.equal(runCli(['--config', 'ci.toml'], { cwd: dir }).code, 0);
  });

  it('the nearest pyproject above each file applies to it', () => {
    const dir = project({
      'pyproject.toml': '[tool.jwt-api-security]\nignore = ["SEC305"]\n',
      'a/app.py': DEBUG_APP,
      'b/pyproject.toml': '[tool.jwt-api-security]\nselect = ["ALL"]\n',
      'b/app.py': DEBUG_APP,
    });
    const r = runCli([], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^b\/app\.py:3:15: SEC305/m);
    assert.doesNotMatch(r.stdout, /^a\/app\.py/m);
  });
});

describe('cli: --fix and --diff', () => {
  it('--diff prints a unified diff, writes nothing, exits 1', () => {
    const dir = project({ 'app.py': DEBUG_APP });
    const r = runCli(['--diff'], { cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stdout,
      '--- a/app.py\n+++ b/app.py\n@@ -1,3 +1,3 @@\n from fastapi import FastAPI\n \n-app = FastAPI(debug=True)\n+app = FastAPI(debug=False)\n',
    );
    assert.match(r.stderr, /Would fix 1 finding\(s\) in 1 file\(s\)/);
    assert.equal(fs.readFileSync(path.join(dir, 'app.py'), 'utf8'), DEBUG_APP);
    const clean = project({ 'app.py': CLEAN_APP });
    assert.equal(runCli(['--diff'], { cwd: clean }).code, 0);
  });

  it('--fix writes the fix, reports what it fixed, and exits 0 when nothing remains', () => {
    const dir = project({ 'app.py': DEBUG_APP });
    const r = runCli(['--fix'], { cwd: dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Found 1 finding \(1 fixed, 0 remaining\)\./);
    assert.equal(fs.readFileSync(path.join(dir, 'app.py'), 'utf8'), DEBUG_APP.replace('debug=True', 'debug=False'));
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left behind');
  });

  it('--fix leaves unfixable findings and exits 1', () => {
    const handler = [
      'import traceback',
      'from fastapi import FastAPI, Request',
      'from fastapi.responses import PlainTextResponse',
      '',
      'app = FastAPI(debug=True)',
      '',
      '@app.exception_handler(Exception)',
      'async def unhandled(request: Request, exc: Exception):',
      '    return PlainTextResponse(traceback.format_exc(), status_code=500)',
      '',
    ].join('\n');
    const dir = project({ 'app.py': handler });
    const r = runCli(['--fix', '--select', 'SEC305'], { cwd: dir });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /\(1 fixed, 1 remaining: 1 suggestion\)/);
    assert.match(fs.readFileSync(path.join(dir, 'app.py'), 'utf8'), /FastAPI\(debug=False\)/);
  });

  it('--fix keeps CRLF line endings, the BOM and the file mode', () => {
    const text = '\uFEFF# -*- coding: utf-8 -*-\r\nfrom fastapi import FastAPI\r\n\r\napp = FastAPI(debug=True)\r\n';
    const dir = project({ 'app.py': Buffer.from(text, 'utf8') });
    fs.chmodSync(path.join(dir, 'app.py'), 0o640);
    const r = runCli(['--fix'], { cwd: dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const bytes = fs.readFileSync(path.join(dir, 'app.py'));
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    assert.equal(bytes.toString('utf8'), text.replace('debug=True', 'debug=False'));
    assert.equal(fs.statSync(path.join(dir, 'app.py')).mode & 0o777, 0o640);
  });

  it('--fix does not write a file that is not valid UTF-8, and says so', () => {
    const bytes = Buffer.concat([Buffer.from('# caf'), Buffer.from([0xe9]), Buffer.from('\n' + DEBUG_APP)]);
    const dir = project({ 'app.py': bytes });
    const r = runCli(['--fix'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /app\.py: fixes not applied: the file is not plain UTF-8/);
    assert.ok(fs.readFileSync(path.join(dir, 'app.py')).equals(bytes));
  });
});

describe('cli: files it walks', () => {
  it('respects .gitignore (and --no-gitignore) and skips virtual environments', () => {
    const dir = project({
      '.gitignore': 'generated/\n*.gen.py\n',
      'app.py': CLEAN_APP,
      'generated/api.py': DEBUG_APP,
      'models.gen.py': DEBUG_APP,
      '.venv/lib/site.py': DEBUG_APP,
      'env/pyvenv.cfg': 'home = /usr/bin\n',
      'env/lib/x.py': DEBUG_APP,
      'node_modules/pkg/x.py': DEBUG_APP,
    });
    const r = runCli([], { cwd: dir });
    assert.equal(r.code, 0, r.stdout);
    const all = runCli(['--no-gitignore'], { cwd: dir });
    assert.equal(all.code, 1);
    assert.match(all.stdout, /^generated\/api\.py:3:15/m);
    assert.match(all.stdout, /^models\.gen\.py:3:15/m);
    assert.doesNotMatch(all.stdout, /\.venv|env\/lib|node_modules/);
  });

  it('an explicitly named file is audited even when git ignores it', () => {
    const dir = project({ '.gitignore': 'scratch.py\n', 'scratch.py': DEBUG_APP });
    assert.equal(runCli([], { cwd: dir }).code, 0);
    assert.equal(runCli(['scratch.py'], { cwd: dir }).code, 1);
  });

  it('binary, oversized and non-UTF-8 files give notices on stderr and the run goes on', () => {
    const dir = project({
      'pyproject.toml': '[tool.jwt-api-security]\nmax-file-size = 2000\n',
      'blob.py': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x01]),
      'big.py': `x = 1\n${'# padding\n'.repeat(300)}`,
      'latin.py': Buffer.concat([Buffer.from('# caf'), Buffer.from([0xe9]), Buffer.from('\n' + DEBUG_APP)]),
      'app.py': DEBUG_APP,
    });
    const r = runCli([], { cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /warning: blob\.py: binary file \(contains NUL bytes\); skipped/);
    assert.match(r.stderr, /warning: big\.py: larger than max-file-size/);
    assert.match(r.stderr, /warning: latin\.py: not valid UTF-8/);
    assert.match(r.stdout, /^latin\.py:4:15: SEC305/m, 'a non-UTF-8 file is still analysed');
    assert.match(r.stdout, /^app\.py:3:15: SEC305/m);
  });

  it('a symbolic link loop gives a notice, not a hang', () => {
    const dir = project({ 'pkg/app.py': DEBUG_APP });
    fs.symlinkSync(path.join(dir, 'pkg'), path.join(dir, 'pkg', 'loop'));
    fs.symlinkSync(path.join(dir, 'self'), path.join(dir, 'self'));
    const r = runCli([], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /pkg\/loop: symbolic link to a folder already walked/);
    assert.match(r.stderr, /self: symbolic link loop; skipped/);
    assert.equal((r.stdout.match(/SEC305/g) ?? []).length, 2, 'the file is reported once (finding line and caret line)');
  });

  it('an unreadable folder gives a notice', { skip: process.getuid?.() === 0 && 'root reads every folder' }, () => {
    const dir = project({ 'app.py': CLEAN_APP, 'secret/x.py': DEBUG_APP });
    fs.chmodSync(path.join(dir, 'secret'), 0o000);
    try {
      const r = runCli([], { cwd: dir });
      assert.equal(r.code, 0);
      assert.match(r.stderr, /secret: cannot read folder: permission denied/);
    } finally {
      fs.chmodSync(path.join(dir, 'secret'), 0o755);
    }
  });

  it('50,000 empty files: no crash, no hang', { timeout: 180_000 }, () => {
    const dir = project({ 'app.py': DEBUG_APP });
    for (let d = 0; d < 50; d++) {
      fs.mkdirSync(path.join(dir, `pkg${d}`));
      for (let i = 0; i < 1000; i++) fs.writeFileSync(path.join(dir, `pkg${d}`, `m${i}.py`), '');
    }
    const r = runCli(['--format', 'json'], { cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.files, 50_001);
    assert.deepEqual(doc.notices, []);
    assert.equal(doc.findings.length, 1);
  });

  it('module names come from the project, not the audited subfolder', () => {
    // `backend/app` is a package: the workspace root is raised to `backend`, so `from app.deps import ...` resolves.
    const dir = project({
      'backend/app/__init__.py': '',
      'backend/app/main.py': DEBUG_APP,
      'backend/tests/test_x.py': DEBUG_APP,
    });
    const r = runCli(['backend/app', '--format', 'json'], { cwd: dir });
    assert.equal(r.code, 1);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.root, 'backend');
    assert.deepEqual(doc.findings.map((f: { file: string }) => f.file), ['backend/app/main.py']);
  });
});
