/**
 * The language client: starts the bundled server over node IPC, answers its configuration requests through
 * config.ts, follows its status notifications (indexing, counts), restarts it after a crash and says so once,
 * and offers typed wrappers for the custom requests. Knows nothing of the views or commands.
 */
import * as vscode from 'vscode';
import * as path from 'path';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  State,
  TransportKind,
  WorkDoneProgress,
  type CloseHandlerResult,
  type ErrorHandlerResult,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import {
  AuditRequest,
  ExportSarifRequest,
  RuleDocsRequest,
  StatusNotification,
  type AuditResultMessage,
  type ExportSarifResult,
  type RuleDocsResult,
  type StatusParams,
} from '../../server/src/protocol';
import { SECTION, serverSettings } from './config';
import type { Logger } from './logger';

/** Crashes tolerated in this window before the client stops restarting (a server that dies on start loops). */
const RESTART_WINDOW_MS = 3 * 60 * 1000;
const MAX_RESTARTS = 4;

export class ServerConnection implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readyPromise: Promise<void> = new Promise(() => undefined);
  private resolveReady: () => void = () => undefined;
  private crashes: number[] = [];
  private crashNoticeShown = false;
  private readonly statusEmitter = new vscode.EventEmitter<StatusParams | { state: 'stopped' }>();
  readonly onStatus = this.statusEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly logger: Logger,
  ) {}

  /** Resolves once the running server has finished indexing. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  get running(): boolean {
    return this.client?.state === State.Running;
  }

  async start(): Promise<void> {
    this.readyPromise = new Promise((resolve) => (this.resolveReady = resolve));
    const module = this.context.asAbsolutePath('dist/server/server.js');
    // The server's loader keeps a V8 code cache of the server there (one per build, shared by every workspace).
    const codeCache = this.context.globalStorageUri.scheme === 'file' ? [`--code-cache-dir=${path.join(this.context.globalStorageUri.fsPath, 'code-cache')}`] : [];
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc, args: codeCache },
      debug: { module, transport: TransportKind.ipc, args: codeCache, options: { execArgv: ['--nolazy', '--inspect=6011'] } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: 'python' },
        { scheme: 'untitled', language: 'python' },
      ],
      outputChannel: this.logger.channel,
      // Where the server keeps its index cache (a re-opened unchanged workspace is not read and analysed again).
      initializationOptions: { cacheDir: this.cacheDir() },
      // No `synchronize`: the server registers for configuration changes and file events itself, then pulls
      // the settings it needs per folder through the middleware below.
      middleware: {
        workspace: {
          configuration: (params) =>
            params.items.map((item) =>
              item.section === SECTION ? serverSettings(item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined) : null,
            ),
        },
      },
      errorHandler: {
        error: (): ErrorHandlerResult => ({ action: ErrorAction.Continue }),
        closed: (): CloseHandlerResult => this.onClosed(),
      },
    };
    const client = new LanguageClient(SECTION, 'JWT API Security', serverOptions, clientOptions);
    this.client = client;
    client.onNotification(StatusNotification, (status: StatusParams) => {
      this.statusEmitter.fire(status);
      if (status.state === 'ready') this.resolveReady();
    });
    await client.start();
    this.logger.info('language server started');
  }

  /** The extension's storage for this workspace (else its global storage) on disk; undefined when not a local path. */
  private cacheDir(): string | undefined {
    const dir = this.context.storageUri ?? this.context.globalStorageUri;
    return dir?.scheme === 'file' ? dir.fsPath : undefined;
  }

  /** A crashed server is restarted (up to MAX_RESTARTS in RESTART_WINDOW_MS); the user is told once. */
  private onClosed(): CloseHandlerResult {
    const now = Date.now();
    this.crashes = this.crashes.filter((t) => now - t < RESTART_WINDOW_MS);
    this.crashes.push(now);
    this.statusEmitter.fire({ state: 'stopped' });
    if (this.crashes.length > MAX_RESTARTS) {
      this.logger.error(`the server stopped ${this.crashes.length} times in 3 minutes; not restarting it`);
      void vscode.window
        .showErrorMessage('JWT API Security: the language server keeps stopping. See the output for details.', 'Show Output')
        .then((choice) => choice && this.logger.show());
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    this.logger.warn('the server stopped unexpectedly; restarting it');
    if (!this.crashNoticeShown) {
      this.crashNoticeShown = true;
      void vscode.window.showWarningMessage('JWT API Security: the language server stopped unexpectedly and was restarted.');
    }
    // The restarted server indexes afresh: ready() waits for it again.
    this.readyPromise = new Promise((resolve) => (this.resolveReady = resolve));
    return { action: CloseAction.Restart, handled: true };
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    try {
      if (client.needsStop()) await client.stop();
    } catch (err) {
      this.logger.error('stopping the server failed', err);
    }
    this.statusEmitter.fire({ state: 'stopped' });
  }

  private require(): LanguageClient {
    if (!this.client) throw new Error('the JWT API Security server is not running');
    return this.client;
  }

  audit(workDoneToken: string | undefined, token: vscode.CancellationToken): Promise<AuditResultMessage> {
    return this.require().sendRequest(AuditRequest, { workDoneToken }, token) as Promise<AuditResultMessage>;
  }

  exportSarif(token: vscode.CancellationToken): Promise<ExportSarifResult> {
    return this.require().sendRequest(ExportSarifRequest, {}, token) as Promise<ExportSarifResult>;
  }

  ruleDocs(code: string): Promise<RuleDocsResult | null> {
    return this.require().sendRequest(RuleDocsRequest, { code }) as Promise<RuleDocsResult | null>;
  }

  /** Follows `$/progress` for a token the client made up (the server attaches work-done progress to it). */
  onProgress(token: string, report: (message: string | undefined, percentage: number | undefined) => void): vscode.Disposable {
    return this.require().onProgress(WorkDoneProgress.type, token, (value) => {
      if (value.kind !== 'end') report(value.message, value.percentage);
    });
  }

  dispose(): void {
    void this.stop();
    this.statusEmitter.dispose();
  }
}
