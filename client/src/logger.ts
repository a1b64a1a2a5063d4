/**
 * The extension's Output channel ("JWT API Security"): the language client writes the server's log there, and
 * the client adds its own lines. Knows nothing of the server or the views.
 */
import * as vscode from 'vscode';

export class Logger implements vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;

  constructor() {
    this.channel = vscode.window.createOutputChannel('JWT API Security', { log: true });
  }

  info(message: string): void {
    this.channel.info(message);
  }

  warn(message: string): void {
    this.channel.warn(message);
  }

  error(message: string, err?: unknown): void {
    this.channel.error(err === undefined ? message : `${message}: ${err instanceof Error ? err.message : String(err)}`);
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}
