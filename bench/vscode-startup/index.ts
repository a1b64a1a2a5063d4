/**
 * Start-up as the extension sees it inside a real VS Code (runner B: code-server's VS Code 1.100.3, the extension
 * under development, this module as `--extensionTestsPath`). Opens routes/tasks.py of the workspace (a copy of
 * examples/todo-api) and times, with the editor's own clock:
 * - activation (or, when VS Code activated the extension at start-up already, nothing: said so) and
 *   open -> first diagnostics of this extension for the file;
 * - `JWT API Security: Restart Server` -> first diagnostics again, several times: the server is spawned anew
 *   and finds the index cache the previous server left in the extension's storage.
 * Prints one line per measurement; resolves (exit 0) when every measurement saw diagnostics.
 *
 * Usage (after `npx tsc -p .` and a bundle in the extension folder):
 *   node out/test/vscode/runner-b.js --workspace <copy of examples/todo-api> --extension <ext dir> --tests out/bench/vscode-startup
 */
import * as path from 'path';
import { performance } from 'perf_hooks';
import * as vscode from 'vscode';

const EXTENSION_ID = 'jwt-api-security.jwt-api-security';
const RESTARTS = Number(process.env.JWT_STARTUP_RESTARTS ?? 5);

/** Resolves with the time at which `uri` has at least one diagnostic from this extension. */
function firstDiagnostics(uri: vscode.Uri, timeoutMs = 120_000): Promise<number> {
  const ours = () => vscode.languages.getDiagnostics(uri).some((d) => d.source === 'jwt-api-security' || typeof d.code === 'object');
  return new Promise((resolve, reject) => {
    if (ours()) return resolve(performance.now());
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`no diagnostics for ${uri.fsPath} after ${timeoutMs} ms`));
    }, timeoutMs);
    const sub = vscode.languages.onDidChangeDiagnostics((e) => {
      if (!e.uris.some((u) => u.toString() === uri.toString()) || !ours()) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(performance.now());
    });
  });
}

/** Resolves once `uri` has no diagnostics of this extension (the old server's are cleared when it stops). */
function cleared(uri: vscode.Uri): Promise<void> {
  return new Promise((resolve) => {
    const check = () => !vscode.languages.getDiagnostics(uri).some((d) => typeof d.code === 'object');
    if (check()) return resolve();
    const sub = vscode.languages.onDidChangeDiagnostics(() => {
      if (!check()) return;
      sub.dispose();
      resolve();
    });
  });
}

export async function run(): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (!folder) throw new Error('no workspace folder');
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  if (!extension) throw new Error(`extension ${EXTENSION_ID} not loaded`);
  const file = vscode.Uri.file(path.join(folder, 'routes', 'tasks.py'));

  const activeBefore = extension.isActive;
  const t0 = performance.now();
  await extension.activate();
  const activated = performance.now();
  console.log(
    activeBefore
      ? '[startup] the extension was already active when the measurement began (activated by workspaceContains at window start-up)'
      : `[startup] activate(): ${(activated - t0).toFixed(0)} ms`,
  );
  const opened = performance.now();
  await vscode.window.showTextDocument(file);
  const first = await firstDiagnostics(file);
  console.log(`[startup] ${activeBefore ? 'open' : 'activation'} -> first diagnostics of routes/tasks.py: ${(first - (activeBefore ? opened : t0)).toFixed(0)} ms (${vscode.languages.getDiagnostics(file).length} diagnostics)`);

  const restarts: number[] = [];
  for (let i = 0; i < RESTARTS; i++) {
    // Let the previous server write its cache (results are written shortly after they are computed).
    await new Promise((r) => setTimeout(r, 2500));
    const started = performance.now();
    const restarted = vscode.commands.executeCommand('jwtApiSecurity.restartServer');
    await cleared(file);
    await restarted;
    const seen = await firstDiagnostics(file);
    restarts.push(seen - started);
    console.log(`[startup] restart ${i + 1} -> first diagnostics of routes/tasks.py: ${(seen - started).toFixed(0)} ms`);
  }
  const sorted = [...restarts].sort((a, b) => a - b);
  console.log(`[startup] restart -> first diagnostics: median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms, min ${sorted[0].toFixed(0)} ms, max ${sorted[sorted.length - 1].toFixed(0)} ms over ${sorted.length}`);
}
