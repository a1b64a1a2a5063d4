/**
 * Settings: `jwtApiSecurity.*` in the workspace's settings reach the server at once; ignoring a rule removes its
 * diagnostics, a severity override changes them, and removing the setting brings them back.
 */
import * as vscode from 'vscode';
import * as assert from 'assert';
import { extensionApi, openFile, waitForDiagnostic, waitForNoDiagnostic, withSetting } from './helpers';

suite('settings', () => {
  suiteSetup(async () => {
    await extensionApi();
  });

  test('jwtApiSecurity.ignore disables a rule, and clearing it enables the rule again', async () => {
    const document = await openFile('app/main.py');
    await waitForDiagnostic(document.uri, 'SEC305');
    const setting = await withSetting('jwtApiSecurity', 'ignore', ['SEC305']);
    try {
      await waitForNoDiagnostic(document.uri, 'SEC305');
      // Only that rule: the CORS finding in the same file stays.
      await waitForDiagnostic(document.uri, 'SEC301');
    } finally {
      await setting.restore();
    }
    await waitForDiagnostic(document.uri, 'SEC305');
  });

  test('jwtApiSecurity.severity overrides a rule severity', async () => {
    const document = await openFile('app/main.py');
    await waitForDiagnostic(document.uri, 'SEC305', (d) => d.severity === vscode.DiagnosticSeverity.Information);
    const setting = await withSetting('jwtApiSecurity', 'severity', { SEC305: 'critical' });
    try {
      const raised = await waitForDiagnostic(document.uri, 'SEC305', (d) => d.severity === vscode.DiagnosticSeverity.Error);
      assert.strictEqual(raised.range.start.line, 5);
    } finally {
      await setting.restore();
    }
    await waitForDiagnostic(document.uri, 'SEC305', (d) => d.severity === vscode.DiagnosticSeverity.Information);
  });
});
