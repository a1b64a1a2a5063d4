/**
 * The editor's Audit Workspace: every file of a folder analysed one by one (progress, cancellation between
 * files), the workspace-level checks, then core/audit's summary, so the result is the CLI's `audit()` result;
 * and the Markdown report rendered by the CLI's report format. Knows nothing of the connection.
 */
import { summarizeAudit, type AuditResult } from '../core/audit';
import { compareFindings, type Finding, type Notice } from '../core/types';
import { renderReport } from '../cli/formats/report';
import type { Workspace } from '../workspace/workspace';
import type { Analyzer } from './analysis';
import { yieldToEventLoop } from './indexer';

export interface AuditRun {
  result: AuditResult;
  report: string;
  cancelled: boolean;
}

export interface AuditHooks {
  /** Called between files with the number done and the total, and the file about to be analysed. */
  onProgress(done: number, total: number, file?: string): void;
  isCancelled(): boolean;
  /** The current text of a file (open buffers win over the disk), for the report's excerpts. */
  readFile(file: string): string | undefined;
}

export async function auditFolder(ws: Workspace, analyzer: Analyzer, hooks: AuditHooks): Promise<AuditRun> {
  const files = ws.allFiles();
  const findings: Finding[] = [];
  const notices: Notice[] = [];
  let cancelled = false;
  for (let i = 0; i < files.length; i++) {
    if (i % 10 === 0) {
      hooks.onProgress(i, files.length, files[i].path);
      await yieldToEventLoop();
    }
    if (hooks.isCancelled()) {
      cancelled = true;
      break;
    }
    const result = analyzer.file(ws, files[i].path);
    findings.push(...result.findings);
    notices.push(...result.notices);
  }
  if (!cancelled) {
    const level = analyzer.workspaceLevel(ws);
    findings.push(...level.findings);
    notices.push(...level.notices);
  }
  hooks.onProgress(files.length, files.length);
  const result = summarizeAudit(ws, findings.sort(compareFindings), notices);
  const report = cancelled ? '' : renderReport(result, ws.root, { readFile: hooks.readFile });
  return { result, report, cancelled };
}
