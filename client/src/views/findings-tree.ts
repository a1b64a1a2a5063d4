/**
 * The Findings view: this extension's diagnostics (every file the editor knows, so an audit fills it for the
 * whole workspace) grouped by views/grouping.ts, with a badge counting critical findings. A thin adapter from
 * the pure grouping to VS Code tree items; knows nothing of the server.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { DIAGNOSTIC_SOURCE } from '../../../server/src/protocol';
import { countBySeverity, groupFindings, snapshot, type FindingItem, type GroupBy, type Node, type Severity } from './grouping';
import type { TreeSnapshot } from '../api';

export const FINDINGS_VIEW = 'jwtApiSecurity.findings';

const FROM_VSCODE: Partial<Record<vscode.DiagnosticSeverity, Severity>> = {
  [vscode.DiagnosticSeverity.Error]: 'critical',
  [vscode.DiagnosticSeverity.Warning]: 'warning',
  [vscode.DiagnosticSeverity.Information]: 'suggestion',
  [vscode.DiagnosticSeverity.Hint]: 'suggestion',
};

/** The rule code of one of our diagnostics (the language client turns `code` + `codeDescription` into an object). */
export function codeOf(d: vscode.Diagnostic): string {
  return typeof d.code === 'object' && d.code !== null ? String(d.code.value) : String(d.code ?? '');
}

/** Our diagnostics across every file, as findings. */
export function currentFindings(): FindingItem[] {
  const out: FindingItem[] = [];
  for (const [uri, diagnostics] of vscode.languages.getDiagnostics()) {
    for (const d of diagnostics) {
      if (d.source !== DIAGNOSTIC_SOURCE) continue;
      out.push({
        file: uri.fsPath,
        displayPath: displayPath(uri),
        code: codeOf(d),
        severity: FROM_VSCODE[d.severity] ?? 'suggestion',
        message: d.message,
        range: {
          start: { line: d.range.start.line, character: d.range.start.character },
          end: { line: d.range.end.line, character: d.range.end.character },
        },
        fixable: false,
      });
    }
  }
  return out;
}

export function displayPath(uri: vscode.Uri): string {
  const folder = vscode.workspace.getWorkspaceFolder(uri);
  if (!folder) return uri.fsPath;
  const rel = path.relative(folder.uri.fsPath, uri.fsPath).split(path.sep).join('/');
  return (vscode.workspace.workspaceFolders?.length ?? 0) > 1 ? `${folder.name}/${rel}` : rel;
}

export class FindingsTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<Node>;
  private roots: Node[] = [];
  private findings: FindingItem[] = [];
  private groupBy: GroupBy;
  private timer: NodeJS.Timeout | undefined;
  private readonly countsEmitter = new vscode.EventEmitter<Record<Severity, number>>();
  readonly onCounts = this.countsEmitter.event;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly state: vscode.Memento) {
    this.groupBy = state.get<GroupBy>('jwtApiSecurity.findings.groupBy', 'severity');
    this.view = vscode.window.createTreeView(FINDINGS_VIEW, { treeDataProvider: this, showCollapseAll: true });
    void vscode.commands.executeCommand('setContext', 'jwtApiSecurity.findings.groupBy', this.groupBy);
    // Diagnostics change in bursts (an audit publishes every file): rebuild once per burst.
    this.subscriptions.push(vscode.languages.onDidChangeDiagnostics(() => this.scheduleRefresh()));
    this.refresh();
  }

  setGroupBy(by: GroupBy): void {
    this.groupBy = by;
    void this.state.update('jwtApiSecurity.findings.groupBy', by);
    void vscode.commands.executeCommand('setContext', 'jwtApiSecurity.findings.groupBy', by);
    this.refresh();
  }

  private scheduleRefresh(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refresh();
    }, 100);
  }

  refresh(): void {
    this.findings = currentFindings();
    this.roots = groupFindings(this.findings, this.groupBy);
    const counts = countBySeverity(this.findings);
    this.view.badge = counts.critical > 0 ? { value: counts.critical, tooltip: `${counts.critical} critical finding${counts.critical === 1 ? '' : 's'}` } : undefined;
    this.view.message = undefined;
    void vscode.commands.executeCommand('setContext', 'jwtApiSecurity.hasFindings', this.findings.length > 0);
    this.countsEmitter.fire(counts);
    this.changed.fire(undefined);
  }

  snapshot(): TreeSnapshot[] {
    // Built from current diagnostics, not the last refresh, so a test right after a change sees it.
    return snapshot(groupFindings(currentFindings(), this.groupBy));
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const item = new vscode.TreeItem(node.label, node.children.length > 0 ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    item.description = node.description;
    if (node.icon) item.iconPath = node.icon === 'file' ? vscode.ThemeIcon.File : new vscode.ThemeIcon(node.icon, severityColor(node.icon));
    if (node.kind === 'group' && node.icon === 'file' && node.children[0]?.kind === 'finding') {
      item.resourceUri = vscode.Uri.file(node.children[0].finding.file);
    }
    if (node.kind === 'finding') {
      const f = node.finding;
      item.contextValue = 'finding';
      item.tooltip = new vscode.MarkdownString().appendMarkdown(`**${f.code}** (${f.severity})\n\n`).appendText(f.message);
      item.command = { title: 'Reveal', command: 'jwtApiSecurity.revealFinding', arguments: [node] };
    }
    return item;
  }

  getChildren(node?: Node): Node[] {
    return node ? node.children : this.roots;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.subscriptions) s.dispose();
    this.view.dispose();
    this.changed.dispose();
    this.countsEmitter.dispose();
  }
}

function severityColor(icon: string): vscode.ThemeColor | undefined {
  if (icon === 'error') return new vscode.ThemeColor('problemsErrorIcon.foreground');
  if (icon === 'warning') return new vscode.ThemeColor('problemsWarningIcon.foreground');
  if (icon === 'info') return new vscode.ThemeColor('problemsInfoIcon.foreground');
  if (icon === 'pass') return new vscode.ThemeColor('testing.iconPassed');
  return undefined;
}

export { severityColor };
