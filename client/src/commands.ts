/**
 * The commands under "JWT API Security": Audit Workspace (cancellable progress, Problems view and panel filled,
 * the Markdown report written to the extension's workspace storage and previewed), Export SARIF…, Show Audit
 * Report, Restart Server, Show Output, rule documentation, and the Findings view's actions (reveal, quick fix,
 * suppress, grouping). Talks to the server only through client.ts.
 * The report goes to workspace storage, not the workspace: the extension never writes into the user's project
 * except the edits the user applies.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import type { AuditResultMessage } from '../../server/src/protocol';
import type { ServerConnection } from './client';
import type { Logger } from './logger';
import type { ChecklistTree } from './views/checklist-tree';
import { codeOf, type FindingsTree } from './views/findings-tree';
import type { Node } from './views/grouping';

export const DOCS_SCHEME = 'jwt-api-security-docs';
export const REPORT_FILE = 'jwt-api-security-report.md';

export interface CommandDeps {
  context: vscode.ExtensionContext;
  server: ServerConnection;
  logger: Logger;
  findings: FindingsTree;
  checklist: ChecklistTree;
}

export class Commands {
  private lastReport: vscode.Uri | undefined;
  private readonly docs = new Map<string, string>();
  private readonly docsChanged = new vscode.EventEmitter<vscode.Uri>();

  constructor(private readonly deps: CommandDeps) {}

  register(): vscode.Disposable[] {
    const { server, logger, findings } = this.deps;
    const cmd = (id: string, fn: (...args: never[]) => unknown) => vscode.commands.registerCommand(id, fn);
    return [
      cmd('jwtApiSecurity.auditWorkspace', async () => {
        const result = await this.auditWithProgress();
        if (result) await vscode.commands.executeCommand('markdown.showPreview', result);
      }),
      cmd('jwtApiSecurity.exportSarif', () => this.exportSarif()),
      cmd('jwtApiSecurity.showReport', () => this.showReport()),
      cmd('jwtApiSecurity.restartServer', async () => {
        logger.info('restarting the server on request');
        await server.restart();
      }),
      cmd('jwtApiSecurity.showOutput', () => logger.show()),
      cmd('jwtApiSecurity.showRuleDocs', (code?: string) => this.showRuleDocs(code)),
      cmd('jwtApiSecurity.openPanel', () => vscode.commands.executeCommand('workbench.view.extension.jwtApiSecurity')),
      cmd('jwtApiSecurity.findings.groupBySeverity', () => findings.setGroupBy('severity')),
      cmd('jwtApiSecurity.findings.groupByRule', () => findings.setGroupBy('rule')),
      cmd('jwtApiSecurity.revealFinding', (node: Node) => node?.kind === 'finding' && reveal(node.finding.file, node.finding.range)),
      cmd('jwtApiSecurity.revealLocation', (loc: { file: string; range: RangeLike }) => loc && reveal(loc.file, loc.range)),
      cmd('jwtApiSecurity.findings.quickFix', (node: Node) => this.applyFromTree(node, 'fix')),
      cmd('jwtApiSecurity.findings.suppress', (node: Node) => this.applyFromTree(node, 'suppress')),
      vscode.workspace.registerTextDocumentContentProvider(DOCS_SCHEME, {
        onDidChange: this.docsChanged.event,
        provideTextDocumentContent: (uri) => this.docs.get(uri.path.replace(/^\/|\.md$/g, '')) ?? '',
      }),
      this.docsChanged,
    ];
  }

  /** Runs the audit with a cancellable notification; fills the panel; writes the report. Undefined if cancelled. */
  auditWithProgress(): Promise<vscode.Uri | undefined> {
    return Promise.resolve(
      vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'JWT API Security: auditing the workspace', cancellable: true },
        async (progress, token) => {
          const progressToken = `jwt-api-security-audit-${Date.now()}`;
          let last = 0;
          const sub = this.deps.server.onProgress(progressToken, (message, percentage) => {
            const increment = percentage !== undefined ? Math.max(0, percentage - last) : undefined;
            if (percentage !== undefined) last = percentage;
            progress.report({ message, increment });
          });
          try {
            const result = await this.deps.server.audit(progressToken, token);
            return await this.afterAudit(result);
          } catch (err) {
            if (token.isCancellationRequested) {
              this.deps.logger.info('audit cancelled');
              return undefined;
            }
            this.deps.logger.error('audit failed', err);
            void vscode.window.showErrorMessage(`JWT API Security: the audit failed: ${(err as Error).message}`);
            return undefined;
          } finally {
            sub.dispose();
          }
        },
      ),
    );
  }

  /** The API's audit: no preview; the report's path. */
  async auditForApi(): Promise<{ reportPath: string }> {
    const result = await this.deps.server.audit(undefined, new vscode.CancellationTokenSource().token);
    const uri = await this.afterAudit(result);
    return { reportPath: uri.fsPath };
  }

  private async afterAudit(result: AuditResultMessage): Promise<vscode.Uri> {
    this.deps.checklist.show(result.folders);
    this.deps.findings.refresh();
    const report = result.folders.map((f) => f.report).join('\n\n---\n\n');
    const dir = this.deps.context.storageUri ?? this.deps.context.globalStorageUri;
    await vscode.workspace.fs.createDirectory(dir);
    const uri = vscode.Uri.joinPath(dir, REPORT_FILE);
    await vscode.workspace.fs.writeFile(uri, Buffer.from(report, 'utf8'));
    this.lastReport = uri;
    const counts = result.folders.reduce(
      (acc, f) => ({ critical: acc.critical + f.counts.critical, warning: acc.warning + f.counts.warning, suggestion: acc.suggestion + f.counts.suggestion }),
      { critical: 0, warning: 0, suggestion: 0 },
    );
    const files = result.folders.reduce((n, f) => n + f.files, 0);
    this.deps.logger.info(`audit: ${files} files, ${counts.critical} critical, ${counts.warning} warning, ${counts.suggestion} suggestion; report at ${uri.fsPath}`);
    for (const f of result.folders) for (const n of f.notices) this.deps.logger.warn(`${n.file ? `${n.file}: ` : ''}${n.message}`);
    return uri;
  }

  private async showReport(): Promise<void> {
    const dir = this.deps.context.storageUri ?? this.deps.context.globalStorageUri;
    const uri = this.lastReport ?? vscode.Uri.joinPath(dir, REPORT_FILE);
    try {
      await vscode.workspace.fs.stat(uri);
    } catch {
      const choice = await vscode.window.showInformationMessage('JWT API Security: there is no audit report yet.', 'Audit Workspace');
      if (choice) await vscode.commands.executeCommand('jwtApiSecurity.auditWorkspace');
      return;
    }
    await vscode.commands.executeCommand('markdown.showPreview', uri);
  }

  private async exportSarif(): Promise<void> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.length === 0) {
      void vscode.window.showInformationMessage('JWT API Security: open a folder to export SARIF.');
      return;
    }
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'JWT API Security: exporting SARIF', cancellable: true },
      async (_progress, token) => {
        try {
          return await this.deps.server.exportSarif(token);
        } catch (err) {
          if (!token.isCancellationRequested) void vscode.window.showErrorMessage(`JWT API Security: SARIF export failed: ${(err as Error).message}`);
          return undefined;
        }
      },
    );
    if (!result) return;
    for (const folder of result.folders) {
      const target = await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.file(path.join(folder.root, 'jwt-api-security.sarif')),
        filters: { SARIF: ['sarif', 'json'] },
        title: `Export SARIF for ${path.basename(folder.root)}`,
      });
      if (!target) continue;
      await vscode.workspace.fs.writeFile(target, Buffer.from(folder.sarif, 'utf8'));
      this.deps.logger.info(`SARIF written to ${target.fsPath}`);
    }
  }

  private async showRuleDocs(code?: string): Promise<void> {
    const picked = code ?? (await vscode.window.showInputBox({ prompt: 'Rule code (e.g. JWT101)', validateInput: (v) => (/^[A-Za-z]{3}\d{3}$/.test(v.trim()) ? undefined : 'A rule code like JWT101') }));
    if (!picked) return;
    const docs = await this.deps.server.ruleDocs(picked.trim().toUpperCase());
    if (!docs) {
      void vscode.window.showWarningMessage(`JWT API Security: no rule ${picked}`);
      return;
    }
    this.docs.set(docs.code, docs.markdown);
    const uri = vscode.Uri.from({ scheme: DOCS_SCHEME, path: `/${docs.code}.md` });
    this.docsChanged.fire(uri);
    await vscode.commands.executeCommand('markdown.showPreview', uri);
  }

  /** Runs the finding's quick fix (the preferred one) or its suppress action, as the lightbulb would. */
  private async applyFromTree(node: Node, which: 'fix' | 'suppress'): Promise<void> {
    if (node?.kind !== 'finding') return;
    const f = node.finding;
    const uri = vscode.Uri.file(f.file);
    const range = toRange(f.range);
    const actions = (await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, range, vscode.CodeActionKind.QuickFix.value)) ?? [];
    const ours = actions.filter((a) => a.diagnostics?.some((d) => codeOf(d) === f.code && d.range.isEqual(range)));
    const action =
      which === 'suppress'
        ? ours.find((a) => a.title === `Suppress ${f.code} on this line`)
        : ours.find((a) => a.isPreferred && a.edit) ?? ours.find((a) => a.edit && !a.title.startsWith('Suppress '));
    if (!action?.edit) {
      void vscode.window.showInformationMessage(which === 'fix' ? `JWT API Security: ${f.code} has no automatic fix here.` : `JWT API Security: cannot suppress ${f.code} here.`);
      return;
    }
    await vscode.workspace.applyEdit(action.edit);
  }
}

interface RangeLike {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

function toRange(r: RangeLike): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

async function reveal(file: string, range: RangeLike): Promise<void> {
  const editor = await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
  const r = toRange(range);
  editor.selection = new vscode.Selection(r.start, r.end);
  editor.revealRange(r, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}
