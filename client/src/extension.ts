/**
 * Extension entry: activate wires the logger, the language client, the views, the status bar and the commands,
 * and returns the API (client/src/api.ts); deactivate stops the server. Nothing else lives here.
 */
import * as vscode from 'vscode';
import type { JwtApiSecurityApi } from './api';
import { ServerConnection } from './client';
import { Commands } from './commands';
import { isEnabled, SECTION } from './config';
import { Logger } from './logger';
import { StatusItem } from './status';
import { ChecklistTree } from './views/checklist-tree';
import { currentFindings, FindingsTree } from './views/findings-tree';

let server: ServerConnection | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<JwtApiSecurityApi> {
  const logger = new Logger();
  server = new ServerConnection(context, logger);
  const findings = new FindingsTree(context.workspaceState);
  const checklist = new ChecklistTree();
  const status = new StatusItem('jwtApiSecurity.openPanel');
  const commands = new Commands({ context, server, logger, findings, checklist });
  context.subscriptions.push(logger, server, findings, checklist, status, ...commands.register());
  context.subscriptions.push(findings.onCounts((counts) => status.setCounts(counts)));
  context.subscriptions.push(server.onStatus((s) => status.setState(s.state)));
  const running = server;
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!e.affectsConfiguration(`${SECTION}.enable`)) return;
      // Off stops the server (and clears its diagnostics); on starts it again.
      if (isEnabled() && !running.running) await running.start();
      else if (!isEnabled()) await running.stop();
    }),
  );
  if (isEnabled()) {
    try {
      await server.start();
    } catch (err) {
      logger.error('the language server failed to start', err);
      void vscode.window.showErrorMessage('JWT API Security: the language server failed to start. See the output for details.');
    }
  } else {
    status.setState('stopped');
  }
  return {
    // With the extension switched off there is no server to wait for.
    ready: () => (isEnabled() ? running.ready() : Promise.resolve()),
    auditWorkspace: () => commands.auditForApi(),
    findingsTree: () => findings.snapshot(),
    checklistTree: () => checklist.snapshot(),
    diagnosticsCount: () => currentFindings().length,
  };
}

export async function deactivate(): Promise<void> {
  await server?.stop();
  server = undefined;
}
