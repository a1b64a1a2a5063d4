/**
 * Starts and stops the VS Code server (1.100.3, from the cached code-server package) on a loopback port, with
 * throwaway user, server and extension folders; installs a .vsix into those folders. It owns the server process
 * and everything it forks (extension hosts, the language server), and stops them all as one process group.
 * It knows nothing of browsers or Mocha.
 */
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { vscodeServerMain } from './paths';

export interface ServerOptions {
  /** Workspace Trust stays on when false (the untrusted-workspace run); the normal runs turn it off. */
  disableWorkspaceTrust: boolean;
  /** Extra environment for the server and so for the extension host it forks (the suite reads it). */
  env?: Record<string, string>;
  /** Where the server's stdout/stderr go (appended). */
  logFile: string;
  /** An existing extensions folder (the e2e script installs the .vsix there first); a fresh one otherwise. */
  extensionsDir?: string;
}

export interface RunningServer {
  port: number;
  /** `vscode-remote://127.0.0.1:PORT/abs/path`: how the web client names a file on this server. */
  remoteUri(absPath: string): string;
  /** http URL of the workbench for `folder`, with the optional extension-development payload. */
  workbenchUrl(folder: string, payload?: Array<[string, string]>): string;
  stop(): Promise<void>;
  /** True once the server process has exited (crash or stop). */
  exited(): boolean;
}

const tempRoots: string[] = [];
const liveChildren = new Set<ChildProcess>();

/** A scratch folder removed at process exit (kept when JWT_VSCODE_KEEP_TEMP=1, for debugging). */
export function makeTempRoot(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempRoots.push(dir);
  return dir;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

// Whatever happens to this process, nothing it started may outlive it.
process.on('exit', () => {
  for (const child of liveChildren) killGroup(child, 'SIGKILL');
  if (process.env.JWT_VSCODE_KEEP_TEMP !== '1') {
    for (const dir of tempRoots) fs.rmSync(dir, { recursive: true, force: true });
  }
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => process.exit(130));
}

/** User settings that keep an offline server quiet: no gallery, no update checks, no telemetry. */
const QUIET_USER_SETTINGS = {
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'workbench.startupEditor': 'none',
  'security.workspace.trust.startupPrompt': 'never',
};

function serverDirs(root: string): { userData: string; serverData: string } {
  const userData = path.join(root, 'user-data');
  const serverData = path.join(root, 'server-data');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.mkdirSync(serverData, { recursive: true });
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify(QUIET_USER_SETTINGS, null, 2));
  return { userData, serverData };
}

/** Installs a packaged extension into `extensionsDir` with the server's own CLI, as a user's server would. */
export function installVsix(vsix: string, extensionsDir: string, logFile: string): void {
  const root = makeTempRoot('jwt-vsix-install-');
  const { userData, serverData } = serverDirs(root);
  const result = spawnSync(
    process.execPath,
    [
      vscodeServerMain(),
      '--accept-server-license-terms',
      '--user-data-dir', userData,
      '--server-data-dir', serverData,
      '--extensions-dir', extensionsDir,
      '--install-extension', vsix,
      '--force',
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  fs.appendFileSync(logFile, `$ --install-extension ${vsix}\n${result.stdout ?? ''}${result.stderr ?? ''}\n`);
  if (result.status !== 0 || !/successfully installed/i.test(result.stdout ?? '')) {
    throw new Error(`installing ${vsix} failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
}

/** Starts the server on a free loopback port and resolves once it accepts connections. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const root = makeTempRoot('jwt-vscode-server-');
  const { userData, serverData } = serverDirs(root);
  const extensionsDir = options.extensionsDir ?? path.join(root, 'extensions');
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  const log = fs.openSync(options.logFile, 'a');

  const args = [
    vscodeServerMain(),
    '--host', '127.0.0.1',
    // Port 0: the server picks a free port and prints it, so parallel runs never collide.
    '--port', '0',
    '--without-connection-token',
    '--accept-server-license-terms',
    '--disable-telemetry',
    '--user-data-dir', userData,
    '--server-data-dir', serverData,
    '--extensions-dir', extensionsDir,
  ];
  if (options.disableWorkspaceTrust) args.push('--disable-workspace-trust');

  // detached: the server leads its own process group, so stop() reaches the extension hosts and the language
  // server it forks as well.
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env, VSCODE_CLI: undefined, ELECTRON_RUN_AS_NODE: undefined },
  });
  liveChildren.add(child);
  let exited = false;
  child.on('exit', () => {
    exited = true;
    liveChildren.delete(child);
  });

  const port = await new Promise<number>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`VS Code server did not start in 60 s; see ${options.logFile}`)), 60_000);
    const onData = (chunk: Buffer): void => {
      fs.writeSync(log, chunk);
      seen += chunk.toString();
      const match = /Extension host agent listening on (\d+)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => fs.writeSync(log, chunk));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`VS Code server exited with ${code} before listening; see ${options.logFile}`));
    });
  });
  // Keep logging after start-up.
  child.stdout!.removeAllListeners('data');
  child.stdout!.on('data', (chunk: Buffer) => fs.writeSync(log, chunk));

  const remoteUri = (absPath: string): string => `vscode-remote://127.0.0.1:${port}${absPath}`;
  return {
    port,
    remoteUri,
    workbenchUrl(folder, payload) {
      let url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(remoteUri(folder))}`;
      if (payload) url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
      return url;
    },
    exited: () => exited,
    async stop() {
      if (exited) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      killGroup(child, 'SIGTERM');
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5_000).unref());
      if ((await Promise.race([done, timeout])) === 'timeout') {
        killGroup(child, 'SIGKILL');
        await done;
      }
      // Children that left the group die with it too: SIGKILL the group once more, harmless if empty.
      killGroup(child, 'SIGKILL');
      fs.closeSync(log);
    },
  };
}
