/**
 * Diagnostics in the editor: opening a vulnerable file shows this extension's findings with the catalog's
 * codes, exact ranges, severities, documentation links and evidence.
 */
import * as assert from 'assert';
import * as vscode from 'vscode';
import { codeOf, extensionApi, openFile, rangeText, waitForDiagnostic, waitForNoDiagnostic } from './helpers';

suite('diagnostics on a vulnerable file', () => {
  suiteSetup(async () => {
    await extensionApi();
  });

  test('main.py: SEC301 (error) on the wildcard origin, with the credentials line as evidence', async () => {
    const document = await openFile('app/main.py');
    const diagnostic = await waitForDiagnostic(document.uri, 'SEC301');
    // `allow_origins=["*"],` on line 10 (1-based) of the fixture.
    assert.strictEqual(rangeText(diagnostic.range), '9:4-9:23');
    assert.strictEqual(document.getText(diagnostic.range), 'allow_origins=["*"]');
    assert.strictEqual(diagnostic.severity, vscode.DiagnosticSeverity.Error);
    assert.match(diagnostic.message, /allow_credentials=True/);
    const related = diagnostic.relatedInformation ?? [];
    assert.ok(
      related.some((r) => r.location.uri.toString() === document.uri.toString() && r.location.range.start.line === 10),
      `expected evidence at allow_credentials=True (line 11), got ${JSON.stringify(related.map((r) => r.location.range.start))}`,
    );
  });

  test('main.py: SEC305 (information) on debug=True, linked to its documentation', async () => {
    const document = await openFile('app/main.py');
    const diagnostic = await waitForDiagnostic(document.uri, 'SEC305');
    assert.strictEqual(rangeText(diagnostic.range), '5:32-5:42');
    assert.strictEqual(document.getText(diagnostic.range), 'debug=True');
    assert.strictEqual(diagnostic.severity, vscode.DiagnosticSeverity.Information);
    assert.ok(typeof diagnostic.code === 'object' && diagnostic.code.target, 'the code carries a documentation link');
    assert.match(diagnostic.code.target.toString(), /SEC305/);
  });

  test('auth.py: JWT101 (error) on the decode that turns verify_signature off', async () => {
    const document = await openFile('app/auth.py');
    const diagnostic = await waitForDiagnostic(document.uri, 'JWT101');
    assert.strictEqual(diagnostic.range.start.line, 18);
    assert.ok(document.getText(diagnostic.range).startsWith('jwt.decode('), document.getText(diagnostic.range));
    assert.ok(document.getText(diagnostic.range).endsWith('})'), 'the range covers the whole call');
    assert.strictEqual(diagnostic.severity, vscode.DiagnosticSeverity.Error);
    assert.match(diagnostic.message, /verify_signature/);
  });

  test('dev.py: one SEC305 per way debug mode is switched on', async () => {
    const document = await openFile('app/dev.py');
    await waitForDiagnostic(document.uri, 'SEC305', (d) => d.range.start.line === 11);
    const lines = vscode.languages
      .getDiagnostics(document.uri)
      .filter((d) => codeOf(d) === 'SEC305')
      .map((d) => d.range.start.line)
      .sort((a, b) => a - b);
    assert.deepStrictEqual(lines, [6, 8, 11]);
  });

  test('typing updates the diagnostics before the file is saved', async () => {
    const document = await openFile('app/main.py');
    await waitForDiagnostic(document.uri, 'SEC305', (d) => d.range.start.line === 5);
    const edit = new vscode.WorkspaceEdit();
    edit.insert(document.uri, new vscode.Position(7, 0), 'app.debug = True\n');
    assert.ok(await vscode.workspace.applyEdit(edit));
    try {
      await waitForDiagnostic(document.uri, 'SEC305', (d) => d.range.start.line === 7);
      // The CORS finding moved down with its line.
      await waitForDiagnostic(document.uri, 'SEC301', (d) => d.range.start.line === 10);
    } finally {
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
    await waitForNoDiagnostic(document.uri, 'SEC305', (d) => d.range.start.line === 7);
    assert.ok(!document.isDirty);
  });
});
