/**
 * The status bar item: a shield with the critical and warning counts (a spinner while the workspace is being
 * indexed); clicking it opens the summary panel. Knows nothing of the server beyond the state it is given.
 */
import * as vscode from 'vscode';
import type { Severity } from './views/grouping';

export type ServerState = 'starting' | 'indexing' | 'ready' | 'stopped';

export class StatusItem implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private state: ServerState = 'starting';
  private counts: Record<Severity, number> = { critical: 0, warning: 0, suggestion: 0 };

  constructor(openPanelCommand: string) {
    this.item = vscode.window.createStatusBarItem('jwtApiSecurity.status', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'JWT API Security';
    this.item.command = openPanelCommand;
    this.render();
    this.item.show();
  }

  setState(state: ServerState): void {
    this.state = state;
    this.render();
  }

  setCounts(counts: Record<Severity, number>): void {
    this.counts = counts;
    this.render();
  }

  private render(): void {
    const { critical, warning, suggestion } = this.counts;
    if (this.state === 'stopped') {
      this.item.text = '$(shield) JWT: off';
      this.item.tooltip = 'JWT API Security: the server is not running';
      return;
    }
    const busy = this.state === 'ready' ? '' : '$(sync~spin) ';
    this.item.text = `${busy}$(shield) ${critical} $(error) ${warning} $(warning)`;
    const md = new vscode.MarkdownString(
      `**JWT API Security**${this.state === 'ready' ? '' : ` (${this.state}…)`}\n\n` +
        `${critical} critical · ${warning} warning · ${suggestion} suggestion\n\nClick to open the summary panel.`,
    );
    this.item.tooltip = md;
    this.item.backgroundColor = critical > 0 ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
