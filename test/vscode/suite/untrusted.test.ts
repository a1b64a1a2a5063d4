/**
 * Restricted Mode. The runner opens this window with Workspace Trust enabled and the folder not trusted (runner
 * B: the VS Code server without --disable-workspace-trust, whose web client has no trust stored for the
 * folder; runner A: VS Code without --disable-workspace-trust and a fresh user-data-dir). The extension
 * declares untrusted workspaces supported because it only parses files and never runs workspace code, so
 * it must work here as it does in a trusted folder.
 */
import * as assert from 'assert';
import * as vscode from 'vscode';
import { extensionApi, openFile, waitForDiagnostic } from './helpers';

suite('untrusted workspace (Restricted Mode)', () => {
  test('the window really is untrusted', () => {
    assert.strictEqual(vscode.workspace.isTrusted, false, 'the runner must open this scenario untrusted');
  });

  test('the manifest declares what the extension does without trust', () => {
    const extension = vscode.extensions.all.find((e) => e.packageJSON?.name === 'jwt-api-security');
    assert.ok(extension);
    const declared = extension.packageJSON.capabilities?.untrustedWorkspaces;
    assert.ok(declared, 'capabilities.untrustedWorkspaces is declared');
    assert.notStrictEqual(declared.supported, false);
  });

  test('the extension activates and reports findings without running anything from the workspace', async () => {
    const api = await extensionApi();
    const document = await openFile('app/main.py');
    const diagnostic = await waitForDiagnostic(document.uri, 'SEC301');
    assert.strictEqual(diagnostic.severity, vscode.DiagnosticSeverity.Error);
    assert.ok(api.diagnosticsCount() > 0);
  });
});
