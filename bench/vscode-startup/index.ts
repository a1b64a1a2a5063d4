/**
 * Start-up as the extension sees it inside a real VS Code (runner B: code-server's VS Code 1.100.3, the extension
 * under development, this module as `--extensionTestsPath`). Opens routes/tasks.py of the workspace (a copy of
 * examples/todo-api) and times, with the editor's own clock:
 * - activation (or, when VS Code activated the extension at start-up already, nothing: said so) and
 *   open -> first diagnostics of this extension for the file;
 * - `JWT API Security: Restart Server` -> first diagnostics again, several times, alternately with the index cache
 *   the previous server left in the extension's storage and with that cache deleted first (cold). The cache file
 *   is found under the VS Code server's data dirs (runner B makes them as os.tmpdir()/jwt-vscode-server-*), by
 *   its format and its root (this window's folder).
 * Prints one line per measurement; resolves (exit 0) when every measurement saw diagnostics.
 *
 * Usage (after `npx tsc -p .` and a bundle in the extension folder):
 *   node out/test/vscode/runner-b.js --workspace <copy of examples/todo-api> --extension <ext dir> --tests out/bench/vscode-startup
 */
import * as fs from 'fs';
import * as os from 'os';
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

/** Index cache files (ours, by their format field) under `dir`, a few levels deep. */
function cacheFiles(dir: string, depth = 9): string[] {
  const out: string[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory() && depth > 0 && e.name !== 'node_modules') out.push(...cacheFiles(full, depth - 1));
    else if (e.isFile() && e.name.endsWith('.json') && path.basename(dir) === 'index') {
      try {
        if (JSON.parse(fs.readFileSync(full, 'utf8')).format === 'jwt-api-security/index-cache') out.push(full);
      } catch {
        // Not ours.
      }
    }
  }
  return out;
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

  const restarts: Record<'cached' | 'cold', number[]> = { cached: [], cold: [] };
  for (let i = 0; i < 2 * RESTARTS; i++) {
    // Let the previous server write its cache (results are written shortly after they are computed).
    await new Promise((r) => setTimeout(r, 2500));
    const mode = i % 2 === 0 ? 'cached' : 'cold';
    const caches = fs
      .readdirSync(os.tmpdir())
      .filter((name) => name.startsWith('jwt-vscode-server-'))
      .flatMap((name) => cacheFiles(path.join(os.tmpdir(), name)))
      .filter((f) => JSON.parse(fs.readFileSync(f, 'utf8')).root === folder);
    if (i === 0) {
      const data = caches.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as { root: string; files: object; results?: { files: object } });
      console.log(`[startup] index cache files: ${caches.join(', ') || 'none'}; ${data.map((d) => `${d.root}: ${Object.keys(d.files).length} files, results for ${Object.keys(d.results?.files ?? {}).length}`).join('; ')}`);
    }
    if (mode === 'cold') for (const f of caches) fs.rmSync(f);
    const started = performance.now();
    const restarted = vscode.commands.executeCommand('jwtApiSecurity.restartServer');
    await cleared(file);
    await restarted;
    const seen = await firstDiagnostics(file);
    restarts[mode].push(seen - started);
    console.log(`[startup] restart ${i + 1} (${mode}) -> first diagnostics of routes/tasks.py: ${(seen - started).toFixed(0)} ms`);
  }
  for (const [mode, times] of Object.entries(restarts)) {
    const sorted = [...times].sort((a, b) => a - b);
    console.log(`[startup] restart (${mode}) -> first diagnostics: median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms, min ${sorted[0].toFixed(0)} ms, max ${sorted[sorted.length - 1].toFixed(0)} ms over ${sorted.length}`);
  }
}
