/**
 * "Fix all" on save: with editor.codeActionsOnSave asking for source.fixAll.jwt-api-security ("explicit", as
 * the README documents; TextDocument.save() is an explicit save), saving a file applies every safe fix in it
 * (and no unsafe one).
 */
import * as assert from 'assert';
import * as vscode from 'vscode';
import { extensionApi, openFile, snapshotFiles, waitForDiagnostic, waitForNoDiagnostic, withSetting } from './helpers';

suite('fix all on save', () => {
  suiteSetup(async () => {
    await extensionApi();
  });

  test('saving dev.py applies the three safe SEC305 fixes', async () => {
    const files = await snapshotFiles('app/dev.py');
    const setting = await withSetting('editor', 'codeActionsOnSave', { 'source.fixAll.jwt-api-security': 'explicit' }, 'python');
    try {
      const document = await openFile('app/dev.py');
      await waitForDiagnostic(document.uri, 'SEC305', (d) => d.range.start.line === 11);
      // A real edit, so the save is a real one.
      const edit = new vscode.WorkspaceEdit();
      edit.insert(document.uri, new vscode.Position(0, 0), '# local development only\n');
      assert.ok(await vscode.workspace.applyEdit(edit));
      assert.ok(await document.save(), 'save failed');

      const text = document.getText();
      assert.strictEqual(document.lineAt(7).text, 'dev_app = FastAPI(title="Todo API (dev)", debug=False)');
      assert.strictEqual(document.lineAt(9).text, 'dev_app.debug = False');
      assert.strictEqual(
        document.lineAt(12).text,
        '    uvicorn.run("app.dev:dev_app", host="127.0.0.1", port=8000, reload=True, debug=False)',
      );
      assert.doesNotMatch(text, /debug=True|debug = True/);
      // What was saved is what the editor shows: the fixes ran before the write.
      const onDisk = new TextDecoder().decode(await vscode.workspace.fs.readFile(document.uri));
      assert.strictEqual(onDisk, text);
      await waitForNoDiagnostic(document.uri, 'SEC305');
    } finally {
      await setting.restore();
      await files.restore();
    }
  });

  test('fix all on save leaves unsafe fixes alone', async () => {
    const files = await snapshotFiles('app/auth.py');
    const setting = await withSetting('editor', 'codeActionsOnSave', { 'source.fixAll.jwt-api-security': 'explicit' }, 'python');
    try {
      const document = await openFile('app/auth.py');
      await waitForDiagnostic(document.uri, 'JWT101');
      const edit = new vscode.WorkspaceEdit();
      edit.insert(document.uri, new vscode.Position(0, 0), '# auth\n');
      assert.ok(await vscode.workspace.applyEdit(edit));
      assert.ok(await document.save(), 'save failed');
      // JWT101's fix is unsafe (it may lock every user out if the key is wrong): it stays a finding.
      assert.match(document.getText(), /"verify_signature": False/);
      await waitForDiagnostic(document.uri, 'JWT101', (d) => d.range.start.line === 19);
    } finally {
      await setting.restore();
      await files.restore();
    }
  });
});
