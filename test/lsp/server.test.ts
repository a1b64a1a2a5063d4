/**
 * The language server as a real process over stdio, spoken to in LSP: indexing with progress, diagnostics and
 * their fields, incremental edits, code actions (quick fix, suppress, docs, fix-all), configuration changes,
 * pyproject changes on disk, the audit and rule-docs requests, bad configuration, hostile input, a crash and a
 * fresh start, and a clean shutdown. Each test works on a scratch copy of test/fixtures/lsp/todo-api.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { CodeAction, Diagnostic } from 'vscode-languageserver-protocol';
import { FIXTURES } from '../support';
import { copyFixture, LspTestClient, uri } from './harness';

const FIXTURE = path.join(FIXTURES, 'lsp', 'todo-api');
const SCRATCH = fs.mkdtempSync(path.join(os.tmpdir(), 'jwt-api-security-lsp-'));

function scratch(name: string): string {
  return copyFixture(FIXTURE, path.join(SCRATCH, name));
}

const codes = (ds: Diagnostic[]) => ds.map((d) => d.code).sort();
const has = (code: string) => (ds: Diagnostic[]) => ds.some((d) => d.code === code);
const lacks = (code: string) => (ds: Diagnostic[]) => !ds.some((d) => d.code === code);

after(() => fs.rmSync(SCRATCH, { recursive: true, force: true }));

describe('language server: a session', () => {
  let client: LspTestClient;
  let root: string;
  let main: string;
  let auth: string;

  before(async () => {
    root = scratch('session');
    main = path.join(root, 'app', 'main.py');
    auth = path.join(root, 'app', 'auth.py');
    client = await LspTestClient.start({ root });
    await client.ready();
  });

  after(async () => {
    if (client.exitCode === undefined) await client.shutdown();
  });

  it('indexes the folder with work-done progress and registers file watchers', () => {
    const kinds = client.progress.map((p) => (p as { value: { kind: string } }).value.kind);
    assert.ok(kinds.includes('begin') && kinds.includes('end'), `progress: ${kinds.join(',')}`);
    const ready = client.statuses.find((s) => s.state === 'ready')!;
    assert.equal(ready.files, 4, 'four Python files indexed');
    const watchers = client.registrations.find((r) => r.method === 'workspace/didChangeWatchedFiles');
    assert.ok(JSON.stringify(watchers?.registerOptions).includes('**/*.py'));
  });

  it('publishes diagnostics with code, docs link, source, severity and fix data', async () => {
    client.open(main);
    const ds = await client.diagnosticsFor(main, has('SEC305'));
    assert.deepEqual(codes(ds), ['SEC305']);
    const d = ds[0];
    assert.equal(d.source, 'jwt-api-security');
    assert.equal(d.severity, 3, 'suggestion -> Information');
    assert.match(d.codeDescription!.href, /^file:\/\/.*\/docs\/rules\/SEC305-debug-enabled\.md$/);
    assert.deepEqual(d.range.start, { line: 4, character: 32 });
    assert.equal((d.data as { fix: { safety: string } }).fix.safety, 'safe');

    client.open(auth);
    const critical = await client.diagnosticsFor(auth, has('JWT101'));
    assert.equal(critical.find((x) => x.code === 'JWT101')!.severity, 1, 'critical -> Error');
  });

  it('follows incremental edits: a fixed line clears, a new finding appears at the right place', async () => {
    // `debug=True` -> `debug=False` by a ranged change on line 4 only.
    client.change(main, [{ range: { start: { line: 4, character: 38 }, end: { line: 4, character: 42 } }, text: 'False' }]);
    await client.diagnosticsFor(main, (ds) => ds.length === 0);
    // Insert a second app with debug on, after the first line.
    client.change(main, [{ range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, text: 'admin = FastAPI(debug=True)\n' }]);
    const ds = await client.diagnosticsFor(main, has('SEC305'));
    assert.equal(ds.length, 1);
    assert.equal(ds[0].range.start.line, 1);
    assert.equal(client.text(main).split('\n')[1], 'admin = FastAPI(debug=True)');
  });

  it('offers the quick fix (preferred, versioned), suppress and docs actions, and the fix clears the finding', async () => {
    const ds = await client.diagnosticsFor(main, has('SEC305'));
    const actions = await client.codeActions(main, ds[0].range, ds, undefined);
    const titles = actions.map((a) => a.title);
    assert.ok(titles.includes('Set `debug=False`'), titles.join(' | '));
    assert.ok(titles.includes('Suppress SEC305 on this line'));
    assert.ok(titles.includes('Show documentation for SEC305'));
    const fix = actions.find((a) => a.title === 'Set `debug=False`')!;
    assert.equal(fix.kind, 'quickfix');
    assert.equal(fix.isPreferred, true);
    const docs = actions.find((a) => a.title === 'Show documentation for SEC305')!;
    assert.deepEqual(docs.command, { title: 'Show documentation for SEC305', command: 'jwtApiSecurity.showRuleDocs', arguments: ['SEC305'] });
    client.applyEdit(fix.edit!);
    await client.diagnosticsFor(main, (x) => x.length === 0);
    assert.equal(client.text(main).split('\n')[1], 'admin = FastAPI(debug=False)');
  });

  it('marks unsafe fixes as such and never prefers them', async () => {
    const ds = await client.diagnosticsFor(auth, has('JWT101'));
    const jwt101 = ds.filter((d) => d.code === 'JWT101');
    const actions = await client.codeActions(auth, jwt101[0].range, jwt101);
    const fix = actions.find((a) => a.edit && !a.title.startsWith('Suppress'));
    assert.ok(fix, 'JWT101 offers a fix here');
    assert.match(fix.title, /unsafe/i);
    assert.notEqual(fix.isPreferred, true);
  });

  it('suppresses a finding on its line with a comment the analyzer honours', async () => {
    client.change(main, [{ range: { start: { line: 2, character: 0 }, end: { line: 2, character: 0 } }, text: 'other = FastAPI(debug=True)\n' }]);
    const ds = await client.diagnosticsFor(main, has('SEC305'));
    const actions = await client.codeActions(main, ds[0].range, ds);
    const suppress = actions.find((a) => a.title === 'Suppress SEC305 on this line')!;
    client.applyEdit(suppress.edit!);
    await client.diagnosticsFor(main, (x) => x.length === 0);
    assert.equal(client.text(main).split('\n')[2], 'other = FastAPI(debug=True)  # jwt-api-security: ignore[SEC305]');
  });

  it('drops a quick fix computed for an older version of the document', async () => {
    client.change(main, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: 'late = FastAPI(debug=True)\n' }]);
    const ds = await client.diagnosticsFor(main, has('SEC305'));
    const stale = ds.map((d) => ({ ...d, data: { ...(d.data as object), version: -1 } }));
    const actions = await client.codeActions(main, ds[0].range, stale);
    assert.ok(!actions.some((a) => a.title === 'Set `debug=False`'));
    assert.ok(actions.some((a) => a.title === 'Suppress SEC305 on this line'), 'suppress is computed from the current text');
  });

  it('fixes every safe finding of the file with source.fixAll (what codeActionsOnSave asks for)', async () => {
    client.change(main, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: 'extra = FastAPI(debug=True)\n' }]);
    await client.diagnosticsFor(main, (ds) => ds.filter((d) => d.code === 'SEC305').length === 2);
    const actions: CodeAction[] = await client.codeActions(main, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, [], ['source.fixAll']);
    assert.equal(actions.length, 1);
    assert.equal(actions[0].kind, 'source.fixAll.jwt-api-security');
    client.applyEdit(actions[0].edit!);
    await client.diagnosticsFor(main, (x) => x.length === 0);
    const lines = client.text(main).split('\n');
    assert.equal(lines[0], 'extra = FastAPI(debug=False)');
    assert.equal(lines[1], 'late = FastAPI(debug=False)');
    // Nothing left to fix: no action.
    const none = await client.codeActions(main, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, [], ['source.fixAll']);
    assert.deepEqual(none, []);
  });

  it('re-publishes the other open documents after a change (cross-file routes)', async () => {
    const before = client.diagnostics.get(uri(auth));
    client.change(main, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '# touched\n' }]);
    await client.waitFor('auth.py re-published', () => client.diagnostics.get(uri(auth)) !== before);
    assert.ok(has('JWT101')(client.diagnostics.get(uri(auth))!.diagnostics));
  });

  it('answers the rule documentation request from the rule itself', async () => {
    const docs = await client.connection.sendRequest('jwtApiSecurity/ruleDocs', { code: 'jwt101' });
    assert.equal((docs as { code: string }).code, 'JWT101');
    assert.match((docs as { markdown: string }).markdown, /## What it does/);
    assert.equal(await client.connection.sendRequest('jwtApiSecurity/ruleDocs', { code: 'NOPE999' }), null);
  });

  it('audits the workspace: every file published, checklist of twelve, the Markdown report', async () => {
    const routes = path.join(root, 'app', 'routes.py');
    client.close(auth);
    await client.diagnosticsFor(auth, (ds) => ds.length === 0);
    const progressBefore = client.progress.length;
    const result = (await client.connection.sendRequest('jwtApiSecurity/audit', { workDoneToken: 'audit-1' })) as {
      folders: { root: string; files: number; checklist: { id: number; status: string }[]; report: string; counts: Record<string, number> }[];
    };
    assert.equal(result.folders.length, 1);
    const folder = result.folders[0];
    assert.equal(folder.files, 4);
    assert.deepEqual(folder.checklist.map((c) => c.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.equal(folder.checklist.find((c) => c.id === 2)!.status, 'fails', 'JWT101 fails item 2');
    assert.ok(folder.counts.critical >= 1);
    assert.match(folder.report, /JWT101/);
    // A closed file gets diagnostics from the audit, and keeps them.
    const ds = await client.diagnosticsFor(auth, has('JWT101'));
    assert.equal(ds.find((d) => d.code === 'JWT101')!.severity, 1);
    assert.ok(!client.diagnostics.has(uri(routes)) || client.diagnostics.get(uri(routes))!.diagnostics.length === 0);
    assert.ok(client.progress.slice(progressBefore).some((p) => (p as { token: string }).token === 'audit-1'), 'audit reports progress on the given token');
  });

  it('exports SARIF 2.1.0 for the folder', async () => {
    const result = (await client.connection.sendRequest('jwtApiSecurity/exportSarif', {})) as { folders: { root: string; sarif: string }[] };
    const log = JSON.parse(result.folders[0].sarif);
    assert.equal(log.version, '2.1.0');
    assert.ok(log.runs[0].results.some((r: { ruleId: string }) => r.ruleId === 'JWT101'));
  });

  it('applies changed editor settings: ignoring a rule removes its diagnostics', async () => {
    client.settings = { ignore: ['JWT101'] };
    void client.connection.sendNotification('workspace/didChangeConfiguration', { settings: null });
    client.open(auth);
    await client.diagnosticsFor(auth, lacks('JWT101'));
    client.settings = {};
    void client.connection.sendNotification('workspace/didChangeConfiguration', { settings: null });
    await client.diagnosticsFor(auth, has('JWT101'));
  });

  it('reloads pyproject.toml when it changes on disk', async () => {
    const pyproject = path.join(root, 'pyproject.toml');
    fs.writeFileSync(pyproject, fs.readFileSync(pyproject, 'utf8').replace('select = ["JWT101", "SEC305"]', 'select = ["SEC305"]'));
    void client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uri(pyproject), type: 2 }] });
    await client.diagnosticsFor(auth, lacks('JWT101'));
  });

  it('shows a broken pyproject.toml once and keeps analysing with defaults', async () => {
    const pyproject = path.join(root, 'pyproject.toml');
    fs.writeFileSync(pyproject, '[tool.jwt-api-security]\nselect = "JWT101"\n');
    void client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uri(pyproject), type: 2 }] });
    await client.diagnosticsFor(auth, has('JWT101'));
    await client.waitFor('the configuration error', () => client.shownMessages.find((m) => m.includes('pyproject.toml')));
    // Another change re-analyses; the same error is not shown again.
    client.change(auth, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '# again\n' }]);
    await client.diagnosticsFor(auth, has('JWT101'));
    assert.equal(client.shownMessages.filter((m) => m.includes('pyproject.toml')).length, 1);
  });

  it('survives hostile documents and keeps serving the others', async () => {
    const hostile = path.join(root, 'app', 'hostile.py');
    const nested = `${'('.repeat(5000)}1${')'.repeat(5000)}\n`;
    const garbage = 'def (:\n\t\x00\uFFFF """ unterminated\n' + '[{'.repeat(2000) + '\n' + 'é = ☃ ' + '\r\n'.repeat(3);
    client.open(hostile, nested + garbage + 'app = FastAPI(debug=True)\n');
    await client.diagnosticsFor(hostile, () => true);
    client.change(hostile, [{ text: '\uFEFF' + 'x'.repeat(100000) + '\n' }]);
    await client.diagnosticsFor(hostile, () => true);
    // A 5 MB single line: over max-file-size, so not analysed (and not re-parsed while typing), only answered.
    client.change(hostile, [{ text: `app = FastAPI(debug=True); x = "${'y'.repeat(5 * 1024 * 1024)}"\n` }]);
    assert.deepEqual(await client.diagnosticsFor(hostile, () => true, 30000), []);
    client.close(hostile);
    client.change(auth, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '# still here\n' }]);
    await client.diagnosticsFor(auth, has('JWT101'));
    assert.equal(client.exitCode, undefined, 'the server is still running');
  });

  it('shuts down cleanly with exit code 0', async () => {
    const code = await client.shutdown();
    assert.equal(code, 0);
  });
});

describe('language server: crash and recovery', () => {
  it('a killed server leaves nothing behind that stops a new one from serving the same folder', async () => {
    const root = scratch('crash');
    const main = path.join(root, 'app', 'main.py');
    const first = await LspTestClient.start({ root });
    await first.ready();
    first.open(main);
    await first.diagnosticsFor(main, has('SEC305'));
    first.kill();
    assert.equal(await first.exited, null, 'killed by signal');
    const second = await LspTestClient.start({ root });
    await second.ready();
    second.open(main);
    const ds = await second.diagnosticsFor(main, has('SEC305'));
    assert.deepEqual(codes(ds), ['SEC305']);
    assert.equal(await second.shutdown(), 0);
  });
});

describe('language server: run on save', () => {
  it('does not analyse while typing when `run` is `onSave`, and does on save', async () => {
    const root = scratch('on-save');
    const main = path.join(root, 'app', 'main.py');
    const client = await LspTestClient.start({ root, settings: { run: 'onSave' } });
    await client.ready();
    client.open(main);
    await client.diagnosticsFor(main, has('SEC305'));
    client.change(main, [{ range: { start: { line: 4, character: 38 }, end: { line: 4, character: 42 } }, text: 'False' }]);
    await new Promise((r) => setTimeout(r, 600));
    assert.ok(has('SEC305')(client.diagnostics.get(uri(main))!.diagnostics), 'unchanged until saved');
    void client.connection.sendNotification('textDocument/didSave', { textDocument: { uri: uri(main) } });
    await client.waitFor('diagnostics after save', () => client.diagnostics.get(uri(main))!.diagnostics.length === 0);
    assert.equal(await client.shutdown(), 0);
  });
});
