/**
 * A minimal LSP client for protocol tests: starts the real server process (compiled or bundled) over stdio,
 * answers the requests a server makes of its client (configuration, capability registration, progress), records
 * diagnostics, log messages, progress and status notifications, and waits for them with timeouts.
 * Knows nothing of the analyzer; speaks only the protocol.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath, pathToFileURL } from 'url';
import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import type {
  ClientCapabilities,
  CodeAction,
  CodeActionParams,
  Diagnostic,
  PublishDiagnosticsParams,
  TextDocumentContentChangeEvent,
  TextEdit,
  WorkspaceEdit,
} from 'vscode-languageserver-protocol';
import { REPO_ROOT } from '../support';

/** The server compiled next to this test (tsc output), or the bundle when JWT_API_SECURITY_SERVER names it. */
export const COMPILED_SERVER = path.join(__dirname, '..', '..', 'server', 'src', 'lsp', 'server.js');
export const BUNDLED_SERVER = path.join(REPO_ROOT, 'dist', 'server', 'server.js');

export const CAPABILITIES: ClientCapabilities = {
  workspace: {
    configuration: true,
    workspaceFolders: true,
    didChangeConfiguration: { dynamicRegistration: true },
    didChangeWatchedFiles: { dynamicRegistration: true },
    workspaceEdit: { documentChanges: true },
  },
  window: { workDoneProgress: true },
  textDocument: {
    synchronization: { didSave: true, dynamicRegistration: false },
    publishDiagnostics: { relatedInformation: true, versionSupport: true, codeDescriptionSupport: true, dataSupport: true },
    codeAction: {
      dataSupport: true,
      isPreferredSupport: true,
      codeActionLiteralSupport: { codeActionKind: { valueSet: ['', 'quickfix', 'source', 'source.fixAll'] } },
    },
  },
};

export interface StartOptions {
  root: string;
  /** The `jwtApiSecurity` section answered to workspace/configuration (mutable: tests change it). */
  settings?: Record<string, unknown>;
  serverPath?: string;
  /** Sent as `initializationOptions` (e.g. `{ cacheDir }`). */
  initializationOptions?: unknown;
  /** More command-line arguments for the server (e.g. `--code-cache-dir=DIR`, as the client passes). */
  args?: string[];
}

export class LspTestClient {
  readonly diagnostics = new Map<string, PublishDiagnosticsParams>();
  readonly logs: { type: number; message: string }[] = [];
  readonly shownMessages: string[] = [];
  readonly progress: unknown[] = [];
  readonly statuses: { state: string; files: number; counts: Record<string, number> }[] = [];
  readonly registrations: { method: string; registerOptions?: unknown }[] = [];
  settings: Record<string, unknown>;
  private readonly waiters: (() => void)[] = [];
  private readonly versions = new Map<string, number>();
  private readonly texts = new Map<string, string>();
  exitCode: number | null | undefined;
  readonly exited: Promise<number | null>;

  private constructor(
    readonly process: ChildProcess,
    readonly connection: ProtocolConnection,
    readonly root: string,
    settings: Record<string, unknown>,
  ) {
    this.settings = settings;
    this.exited = new Promise((resolve) =>
      process.on('exit', (code) => {
        this.exitCode = code;
        this.notify();
        resolve(code);
      }),
    );
    connection.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      this.diagnostics.set(p.uri, p);
      this.notify();
    });
    connection.onNotification('window/logMessage', (p: { type: number; message: string }) => {
      this.logs.push(p);
      this.notify();
    });
    connection.onNotification('window/showMessage', (p: { message: string }) => {
      this.shownMessages.push(p.message);
      this.notify();
    });
    connection.onNotification('$/progress', (p: unknown) => {
      this.progress.push(p);
      this.notify();
    });
    connection.onNotification('jwtApiSecurity/status', (p: LspTestClient['statuses'][number]) => {
      this.statuses.push(p);
      this.notify();
    });
    connection.onRequest('workspace/configuration', (p: { items: { section?: string }[] }) => p.items.map(() => this.settings));
    connection.onRequest('client/registerCapability', (p: { registrations: LspTestClient['registrations'] }) => {
      this.registrations.push(...p.registrations);
      return null;
    });
    connection.onRequest('window/workDoneProgress/create', () => null);
    connection.onRequest('window/showMessageRequest', (p: { message: string }) => {
      this.shownMessages.push(p.message);
      this.notify();
      return null;
    });
  }

  static async start(options: StartOptions): Promise<LspTestClient> {
    const serverPath = options.serverPath ?? process.env.JWT_API_SECURITY_SERVER ?? COMPILED_SERVER;
    if (!fs.existsSync(serverPath)) throw new Error(`no server at ${serverPath}`);
    const child = spawn(process.execPath, [serverPath, '--stdio', ...(options.args ?? [])], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stderr!.on('data', () => undefined);
    const connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    connection.listen();
    const client = new LspTestClient(child, connection, options.root, options.settings ?? {});
    await connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: uri(options.root),
      workspaceFolders: [{ uri: uri(options.root), name: path.basename(options.root) }],
      capabilities: CAPABILITIES,
      initializationOptions: options.initializationOptions,
    });
    await connection.sendNotification('initialized', {});
    return client;
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves with the first truthy value of `probe`, re-checked on every message; rejects after `timeoutMs`. */
  async waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value) return value;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until the server says the index is built. */
  ready(timeoutMs = 20000): Promise<unknown> {
    return this.waitFor('indexing to finish', () => this.statuses.find((s) => s.state === 'ready'), timeoutMs);
  }

  /** Waits for diagnostics of `file` published for the current version and matching `accept`. */
  diagnosticsFor(file: string, accept: (d: Diagnostic[]) => boolean = () => true, timeoutMs = 10000): Promise<Diagnostic[]> {
    const u = uri(file);
    return this.waitFor(`diagnostics of ${path.basename(file)}`, () => {
      const p = this.diagnostics.get(u);
      if (!p) return undefined;
      const version = this.versions.get(u);
      if (version !== undefined && p.version !== undefined && p.version !== version) return undefined;
      return accept(p.diagnostics) ? p.diagnostics : undefined;
    }, timeoutMs);
  }

  open(file: string, text = fs.readFileSync(file, 'utf8')): string {
    const u = uri(file);
    this.versions.set(u, 1);
    this.texts.set(u, text);
    void this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri: u, languageId: 'python', version: 1, text } });
    return u;
  }

  text(file: string): string {
    return this.texts.get(uri(file)) ?? '';
  }

  /** Sends incremental changes (ranges in the current text), keeping the local copy in step. */
  change(file: string, changes: TextDocumentContentChangeEvent[]): void {
    const u = uri(file);
    const version = (this.versions.get(u) ?? 0) + 1;
    this.versions.set(u, version);
    let text = this.texts.get(u) ?? '';
    for (const c of changes) text = 'range' in c ? applyTextEdits(text, [{ range: c.range, newText: c.text }]) : c.text;
    this.texts.set(u, text);
    void this.connection.sendNotification('textDocument/didChange', { textDocument: { uri: u, version }, contentChanges: changes });
  }

  /** Applies a workspace edit to the open documents it targets (as an editor would) and sends the changes. */
  applyEdit(edit: WorkspaceEdit): void {
    for (const change of edit.documentChanges ?? []) {
      if (!('textDocument' in change)) throw new Error('unexpected resource operation');
      const file = fileOf(change.textDocument.uri);
      if (change.textDocument.version !== null && change.textDocument.version !== this.versions.get(change.textDocument.uri)) {
        throw new Error(`edit for version ${change.textDocument.version}, document is at ${this.versions.get(change.textDocument.uri)}`);
      }
      // One whole-document change keeps the test independent of edit order; the server sees a full resync.
      const next = applyTextEdits(this.text(file), change.edits as TextEdit[]);
      this.change(file, [{ text: next }]);
    }
    for (const [u, edits] of Object.entries(edit.changes ?? {})) {
      const file = fileOf(u);
      this.change(file, [{ text: applyTextEdits(this.text(file), edits) }]);
    }
  }

  close(file: string): void {
    const u = uri(file);
    this.versions.delete(u);
    this.texts.delete(u);
    void this.connection.sendNotification('textDocument/didClose', { textDocument: { uri: u } });
  }

  codeActions(file: string, range: CodeActionParams['range'], diagnostics: Diagnostic[], only?: string[]): Promise<CodeAction[]> {
    return this.connection.sendRequest('textDocument/codeAction', {
      textDocument: { uri: uri(file) },
      range,
      context: { diagnostics, only },
    });
  }

  async shutdown(timeoutMs = 5000): Promise<number | null> {
    await this.connection.sendRequest('shutdown');
    await this.connection.sendNotification('exit');
    const code = await Promise.race([this.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs))]);
    if (code === 'timeout') {
      this.process.kill('SIGKILL');
      throw new Error('server did not exit after shutdown/exit');
    }
    this.connection.dispose();
    return code;
  }

  kill(): void {
    this.process.kill('SIGKILL');
    this.connection.dispose();
  }
}

export function uri(file: string): string {
  return pathToFileURL(file).toString();
}

export function fileOf(u: string): string {
  return fileURLToPath(u);
}

/** Applies LSP text edits (0-based line/UTF-16 character) to a text. */
export function applyTextEdits(text: string, edits: readonly TextEdit[]): string {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  const offset = (p: { line: number; character: number }) =>
    p.line >= starts.length ? text.length : Math.min(starts[p.line] + p.character, p.line + 1 < starts.length ? starts[p.line + 1] : text.length);
  const sorted = edits.map((e) => ({ s: offset(e.range.start), e: offset(e.range.end), t: e.newText })).sort((a, b) => b.s - a.s || b.e - a.e);
  let out = text;
  for (const e of sorted) out = out.slice(0, e.s) + e.t + out.slice(e.e);
  return out;
}

/** Copies a fixture folder to a scratch folder, so tests can write to it. */
export function copyFixture(src: string, dest: string): string {
  fs.rmSync(dest, { recursive: true, force: true });
  fs.cpSync(src, dest, { recursive: true });
  return dest;
}
