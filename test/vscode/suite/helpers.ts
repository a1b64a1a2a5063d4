/**
 * Helpers for the integration suite, running inside VS Code's extension host: find and activate the extension
 * under test, open workspace files, wait for diagnostics, read diagnostic codes, and restore files and settings
 * a test changed. Knows the extension only through its manifest name and the API it exports (client/src/api.ts).
 */
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { JwtApiSecurityApi, TreeSnapshot } from '../../../client/src/api';

export const SOURCE = 'jwt-api-security';

let api: JwtApiSecurityApi | undefined;

/** The extension under development, activated, with its server started and the workspace indexed. */
export async function extensionApi(): Promise<JwtApiSecurityApi> {
  if (api) return api;
  const extension = vscode.extensions.all.find((e) => e.packageJSON?.name === 'jwt-api-security');
  assert.ok(extension, 'the jwt-api-security extension is not loaded in this window');
  const exported = (await extension.activate()) as JwtApiSecurityApi | undefined;
  assert.ok(exported && typeof exported.ready === 'function', 'activate() did not return the test API');
  await exported.ready();
  api = exported;
  return api;
}

export function workspaceRoot(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'no workspace folder is open');
  return folder.uri;
}

export function fileUri(relative: string): vscode.Uri {
  return vscode.Uri.joinPath(workspaceRoot(), ...relative.split('/'));
}

export async function openFile(relative: string): Promise<vscode.TextDocument> {
  const document = await vscode.workspace.openTextDocument(fileUri(relative));
  await vscode.window.showTextDocument(document, { preview: false });
  return document;
}

/** `code` of a diagnostic, whether the server sent a plain code or one with a documentation link. */
export function codeOf(diagnostic: vscode.Diagnostic): string | undefined {
  const code = diagnostic.code;
  if (code === undefined) return undefined;
  if (typeof code === 'object') return String(code.value);
  return String(code);
}

/** This extension's diagnostics on `uri` (other extensions' diagnostics are not ours to assert). */
export function ourDiagnostics(uri: vscode.Uri, code?: string): vscode.Diagnostic[] {
  return vscode.languages
    .getDiagnostics(uri)
    .filter((d) => d.source === SOURCE && (code === undefined || codeOf(d) === code));
}

/** Polls until `probe` returns a value other than undefined, or fails with what was last seen. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  describe: () => string = () => '',
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}${describe() ? `; last seen: ${describe()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function describeDiagnostics(uri: vscode.Uri): string {
  const all = vscode.languages.getDiagnostics(uri);
  if (all.length === 0) return 'no diagnostics';
  return all
    .map((d) => `${d.source}:${codeOf(d)}@${d.range.start.line}:${d.range.start.character}-${d.range.end.line}:${d.range.end.character}`)
    .join(', ');
}

/** Waits for a diagnostic of `code` on `uri` that satisfies `match` (any, by default). */
export function waitForDiagnostic(
  uri: vscode.Uri,
  code: string,
  match: (d: vscode.Diagnostic) => boolean = () => true,
  timeoutMs?: number,
): Promise<vscode.Diagnostic> {
  return waitFor(
    `${code} on ${vscode.workspace.asRelativePath(uri)}`,
    () => ourDiagnostics(uri, code).find(match),
    () => describeDiagnostics(uri),
    timeoutMs,
  );
}

/** Waits until no diagnostic of `code` on `uri` satisfies `match`. */
export async function waitForNoDiagnostic(
  uri: vscode.Uri,
  code: string,
  match: (d: vscode.Diagnostic) => boolean = () => true,
  timeoutMs?: number,
): Promise<void> {
  await waitFor(
    `${code} to disappear from ${vscode.workspace.asRelativePath(uri)}`,
    () => (ourDiagnostics(uri, code).some(match) ? undefined : true),
    () => describeDiagnostics(uri),
    timeoutMs,
  );
}

export function rangeText(range: vscode.Range): string {
  return `${range.start.line}:${range.start.character}-${range.end.line}:${range.end.character}`;
}

/**
 * Snapshot of files a test is about to change; `restore()` puts their text back on disk and in open editors,
 * so each test starts from the fixture as written whatever ran before it.
 */
export async function snapshotFiles(...relatives: string[]): Promise<{ restore(): Promise<void> }> {
  const saved = await Promise.all(
    relatives.map(async (relative) => ({ uri: fileUri(relative), bytes: await vscode.workspace.fs.readFile(fileUri(relative)) })),
  );
  return {
    async restore() {
      for (const { uri, bytes } of saved) {
        const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
        if (document) {
          const edit = new vscode.WorkspaceEdit();
          edit.replace(uri, new vscode.Range(0, 0, document.lineCount, 0), new TextDecoder().decode(bytes));
          await vscode.workspace.applyEdit(edit);
          await document.save();
        } else {
          await vscode.workspace.fs.writeFile(uri, bytes);
        }
      }
    },
  };
}

/** Sets a workspace-level setting for the duration of a test; `restore()` puts the previous value back. */
export async function withSetting(
  section: string,
  key: string,
  value: unknown,
  languageId?: string,
): Promise<{ restore(): Promise<void> }> {
  const scope = languageId ? { languageId } : undefined;
  const config = vscode.workspace.getConfiguration(section, scope);
  const previous = config.inspect(key);
  const previousValue = languageId ? previous?.workspaceLanguageValue : previous?.workspaceValue;
  await config.update(key, value, vscode.ConfigurationTarget.Workspace, languageId !== undefined);
  return {
    async restore() {
      await vscode.workspace
        .getConfiguration(section, scope)
        .update(key, previousValue, vscode.ConfigurationTarget.Workspace, languageId !== undefined);
    },
  };
}

/** All labels of a tree snapshot, depth first, for assertions and failure messages. */
export function flattenLabels(nodes: TreeSnapshot[], depth = 0): string[] {
  return nodes.flatMap((node) => [
    `${'  '.repeat(depth)}${node.label}${node.description ? ` (${node.description})` : ''}${node.icon ? ` [${node.icon}]` : ''}`,
    ...flattenLabels(node.children, depth + 1),
  ]);
}
