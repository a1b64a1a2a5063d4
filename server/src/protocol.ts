/**
 * Custom LSP messages shared by the language server (server/src/lsp) and the VS Code client (client/src): method
 * names and their plain-data payloads. Knows nothing of either side's libraries; types only, plus the names.
 * Invariant: positions are 0-based lines and UTF-16 columns, file locations are absolute paths (not URIs), as in
 * core/types.ts, so the client can build tree items without parsing URIs.
 */
import type { ChecklistStatus } from './core/audit';
import type { Fix, Notice, Range, Severity } from './core/types';

/** The diagnostic `source` of every finding; the client filters the Problems view by it. */
export const DIAGNOSTIC_SOURCE = 'jwt-api-security';

/** The code action kind of "fix all safe fixes in this file" (`editor.codeActionsOnSave` can name it). */
export const FIX_ALL_KIND = 'source.fixAll.jwt-api-security';

/** Client-side command the "Show documentation for CODE" code action runs; argument: the rule code. */
export const SHOW_RULE_DOCS_COMMAND = 'jwtApiSecurity.showRuleDocs';

/** Severity counts over every diagnostic the server currently publishes. */
export type Counts = Record<Severity, number>;

/** What each diagnostic carries in `data`: the finding's identity and its fix, so code actions need no server memory. */
export interface DiagnosticData {
  /** The document version the finding was computed on; a fix is offered only while it still matches. */
  version: number | null;
  severity: Severity;
  name: string;
  fix?: Fix;
}

/** Server -> client notification `jwtApiSecurity/status`: indexing state and counts, after every change. */
export const StatusNotification = 'jwtApiSecurity/status';
export interface StatusParams {
  /** `indexing` while the background index of the workspace folders is being built. */
  state: 'starting' | 'indexing' | 'ready';
  /** Python files indexed across the workspace folders. */
  files: number;
  counts: Counts;
}

/** Client -> server request `jwtApiSecurity/audit`: audits every folder, publishes diagnostics for every file, returns the summary. Cancellable, reports work-done progress. */
export const AuditRequest = 'jwtApiSecurity/audit';
export interface AuditParams {
  /** Pass a token to receive `$/progress` (LSP work-done progress). */
  workDoneToken?: string | number;
}
export interface AuditChecklistItem {
  id: number;
  title: string;
  status: ChecklistStatus;
  evidence: { file: string; range: Range; message: string }[];
}
export interface FolderAudit {
  root: string;
  files: number;
  counts: Counts;
  checklist: AuditChecklistItem[];
  notices: Notice[];
  /** The Markdown report (cli/formats/report.ts), the same text the CLI writes. */
  report: string;
  /** True when the audit was cancelled before every file was analysed. */
  cancelled: boolean;
}
export interface AuditResultMessage {
  folders: FolderAudit[];
}

/** Client -> server request `jwtApiSecurity/exportSarif`: the SARIF 2.1.0 log of a full audit of each folder, as JSON text. Cancellable. */
export const ExportSarifRequest = 'jwtApiSecurity/exportSarif';
export interface ExportSarifResult {
  folders: { root: string; sarif: string }[];
}

/** Client -> server request `jwtApiSecurity/ruleDocs`: a rule's documentation (the text in the rule file), or null for an unknown code. */
export const RuleDocsRequest = 'jwtApiSecurity/ruleDocs';
export interface RuleDocsParams {
  code: string;
}
export interface RuleDocsResult {
  code: string;
  name: string;
  markdown: string;
}
