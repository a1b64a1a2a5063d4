/**
 * Quick fixes as VS Code asks for them: code actions from vscode.executeCodeActionProvider for a finding,
 * applied with workspace.applyEdit; the text changes as the rule says and the finding goes away.
 */
import * as assert from 'assert';
import * as vscode from 'vscode';
import { codeOf, extensionApi, openFile, snapshotFiles, waitForDiagnostic, waitForNoDiagnostic } from './helpers';

/** Code actions VS Code collects for `range` (resolving lazily computed edits, as the lightbulb does). */
async function codeActions(uri: vscode.Uri, range: vscode.Range, kind?: string): Promise<vscode.CodeAction[]> {
  const actions = await vscode.commands.executeCommand<Array<vscode.CodeAction | vscode.Command>>(
    'vscode.executeCodeActionProvider',
    uri,
    range,
    kind,
    50,
  );
  return (actions ?? []).filter((a): a is vscode.CodeAction => 'title' in a && !('command' in a && typeof a.command === 'string'));
}

/** For failure messages: what VS Code returned. */
function describe(actions: vscode.CodeAction[]): string {
  return actions.map((a) => `${a.title} [${a.kind?.value ?? 'no kind'}${a.edit ? ', edit' : ''}${a.command ? ', command' : ''}]`).join(' | ');
}

/**
 * Whether an action answers `code`. vscode.executeCodeActionProvider does not carry an action's diagnostics
 * back to the caller (VS Code 1.100 converts title, kind, edit, command and isPreferred only), so when they are
 * missing the request's range decides: each test asks for the range of exactly one finding.
 */
function isForCode(action: vscode.CodeAction, code: string): boolean {
  if (action.diagnostics === undefined || action.diagnostics.length === 0) return true;
  return action.diagnostics.some((d) => codeOf(d) === code);
}

/** The rule's own fix: a quick fix for the finding that is neither a suppression nor a documentation link. */
function ruleFix(actions: vscode.CodeAction[], code: string): vscode.CodeAction | undefined {
  return actions.find(
    (a) =>
      isForCode(a, code) &&
      a.kind !== undefined &&
      vscode.CodeActionKind.QuickFix.contains(a.kind) &&
      !/suppress|ignore|documentation/i.test(a.title) &&
      a.edit !== undefined,
  );
}

/**
 * The diagnostic for `code` and the code actions offered for it, once the rule's fix is among them. A fix is only
 * offered for a diagnostic computed on the document's current version (its edits are positions in that text), and
 * the diagnostics VS Code shows right after a file opens or another file changes can still be those of the
 * previous analysis; the lightbulb asks again when fresh ones arrive, and so does this, for up to 15 s.
 */
async function whenFixOffered(uri: vscode.Uri, code: string, kind?: string): Promise<{ actions: vscode.CodeAction[]; fix?: vscode.CodeAction }> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const diagnostic = await waitForDiagnostic(uri, code);
    const actions = await codeActions(uri, diagnostic.range, kind);
    const fix = ruleFix(actions, code);
    if (fix || Date.now() > deadline) return { actions, fix };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function apply(action: vscode.CodeAction): Promise<void> {
  assert.ok(action.edit, `"${action.title}" has no edit`);
  assert.ok(await vscode.workspace.applyEdit(action.edit), `applying "${action.title}" failed`);
  if (action.command) await vscode.commands.executeCommand(action.command.command, ...(action.command.arguments ?? []));
}

suite('quick fixes through executeCodeActionProvider', () => {
  let files: { restore(): Promise<void> };
  suiteSetup(async () => {
    await extensionApi();
  });
  setup(async () => {
    files = await snapshotFiles('app/auth.py', 'app/main.py');
  });
  teardown(async () => {
    await files.restore();
  });

  test('JWT101: the fix removes the verify_signature option, touches nothing else, and the finding goes away', async () => {
    const document = await openFile('app/auth.py');
    const before = document.getText().split('\n');
    const { actions, fix } = await whenFixOffered(document.uri, 'JWT101', vscode.CodeActionKind.QuickFix.value);
    assert.ok(fix, `no JWT101 fix among: ${describe(actions)}`);
    // Unsafe fixes are offered on request but never preferred (never applied by a blind "fix all").
    assert.notStrictEqual(fix.isPreferred, true, 'an unsafe fix must not be preferred');
    assert.match(fix.title, /unsafe/i);

    await apply(fix);
    const after = document.getText().split('\n');
    assert.strictEqual(after.length, before.length);
    for (let line = 0; line < before.length; line++) {
      if (line === 18) continue;
      assert.strictEqual(after[line], before[line], `line ${line + 1} changed`);
    }
    assert.doesNotMatch(after[18], /verify_signature/);
    assert.match(after[18], /^\s+payload = jwt\.decode\(credentials\.credentials, BETTER_AUTH_SECRET, algorithms=\["HS256"\]/);
    await waitForNoDiagnostic(document.uri, 'JWT101');
  });

  test('SEC305: the safe fix is preferred and sets debug=False', async () => {
    const document = await openFile('app/main.py');
    const { actions, fix } = await whenFixOffered(document.uri, 'SEC305', vscode.CodeActionKind.QuickFix.value);
    assert.ok(fix, `no SEC305 fix among: ${describe(actions)}`);
    assert.strictEqual(fix.isPreferred, true, 'a safe fix is the preferred action');
    await apply(fix);
    assert.strictEqual(document.lineAt(5).text, 'app = FastAPI(title="Todo API", debug=False)');
    await waitForNoDiagnostic(document.uri, 'SEC305');
    // The other finding in the file is untouched.
    await waitForDiagnostic(document.uri, 'SEC301');
  });

  test('suppressing a finding on its line silences it', async () => {
    const document = await openFile('app/main.py');
    const diagnostic = await waitForDiagnostic(document.uri, 'SEC301');
    const actions = await codeActions(document.uri, diagnostic.range, vscode.CodeActionKind.QuickFix.value);
    const suppress = actions.find((a) => isForCode(a, 'SEC301') && /suppress SEC301/i.test(a.title) && a.edit);
    assert.ok(suppress, `no suppression among: ${describe(actions)}`);
    await apply(suppress);
    assert.match(document.getText(), /# jwt-api-security: ignore\[SEC301\]/);
    await waitForNoDiagnostic(document.uri, 'SEC301');
  });
});
