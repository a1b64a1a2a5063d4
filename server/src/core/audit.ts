/**
 * The full-workspace audit: findings of every rule (with SUP001), the twelve-item checklist with its evidence,
 * and counts. The CLI and the editor's Audit Workspace command both call `audit()`, so they always agree.
 * Returns plain data; rendering lives in cli/formats.
 */
import { analyzeWorkspace } from './analyze';
import { DEFAULT_EVIDENCE } from './evidence';
import { ruleByCode } from '../rules/index';
import { SEVERITY_ORDER, type Finding, type Notice, type RelatedLocation, type Severity } from './types';
import type { Workspace } from '../workspace/workspace';

export type ChecklistStatus = 'holds' | 'fails' | 'not-applicable';

export interface ChecklistDefinition {
  id: number;
  title: string;
  /** The rules whose findings make the item fail. */
  codes: string[];
}

export const CHECKLIST: readonly ChecklistDefinition[] = [
  { id: 1, title: 'JWT read only from the `Authorization: Bearer` header', codes: ['JWT106'] },
  { id: 2, title: 'Signature verified with the secret from the environment', codes: ['JWT101', 'JWT102', 'JWT104', 'JWT105', 'JWT112'] },
  { id: 3, title: '`exp` enforced', codes: ['JWT103'] },
  { id: 4, title: 'Invalid, missing or expired tokens answered with 401', codes: ['JWT107', 'JWT108'] },
  { id: 5, title: 'Authentication centralised in one dependency', codes: ['JWT110'] },
  { id: 6, title: 'User id taken from verified claims, never from client input', codes: ['JWT111', 'JWT113', 'ISO202', 'ISO205'] },
  { id: 7, title: 'Every protected query filtered by the authenticated user', codes: ['ISO201', 'ISO203'] },
  { id: 8, title: 'Ownership and privileges enforced on every create, read, update and delete', codes: ['ISO201', 'ISO204', 'ISO206', 'ISO208'] },
  { id: 9, title: 'No session-based auth and no frontend verification calls', codes: ['SEC302', 'SEC303'] },
  { id: 10, title: 'Secrets only in environment variables', codes: ['JWT104', 'JWT105', 'SEC304'] },
  { id: 11, title: 'Parameterized SQL only', codes: ['ISO207'] },
  { id: 12, title: 'Error responses leak nothing', codes: ['JWT109', 'SEC305', 'SEC306'] },
];

export interface ChecklistItem extends ChecklistDefinition {
  status: ChecklistStatus;
  /** Where the item is shown to hold (the auth dependency, the verified decode), or its failing findings' places. */
  evidence: RelatedLocation[];
  findings: Finding[];
}

export interface AuditResult {
  root: string;
  files: number;
  findings: Finding[];
  notices: Notice[];
  checklist: ChecklistItem[];
  counts: Record<Severity, number>;
}

export interface AuditOptions {
  /** Called with (done, total) while files are analysed. */
  onProgress?: (done: number, total: number) => void;
  /** Checked between files; a cancelled audit returns what it has. */
  isCancelled?: () => boolean;
  /** Ignore the rules' prescans (the prescan check compares both runs). */
  noPrescan?: boolean;
}

/** Evidence providers: for a checklist item, the places in the workspace that show it holds (empty: not applicable). */
export type EvidenceProvider = (ws: Workspace) => RelatedLocation[];
// The defaults live in evidence.ts (which imports only types from here, so there is no load-order cycle);
// registerEvidence replaces one, e.g. for an extension or a test.
const evidenceProviders = new Map<number, EvidenceProvider>(DEFAULT_EVIDENCE);

export function registerEvidence(item: number, provider: EvidenceProvider): void {
  evidenceProviders.set(item, provider);
}

export function audit(ws: Workspace, options: AuditOptions = {}): AuditResult {
  const { findings, notices } = analyzeWorkspace(ws, { reportUnusedSuppressions: true, noPrescan: options.noPrescan });
  options.onProgress?.(ws.allFiles().length, ws.allFiles().length);
  return summarizeAudit(ws, findings, notices);
}

/**
 * The audit result for findings already computed over the whole workspace (sorted, with SUP001 and the
 * workspace-level checks): counts and the checklist. The language server analyses file by file, to report
 * progress and honour cancellation, and then calls this, so it agrees with `audit()`.
 */
export function summarizeAudit(ws: Workspace, findings: Finding[], notices: Notice[]): AuditResult {
  const counts: Record<Severity, number> = { critical: 0, warning: 0, suggestion: 0 };
  for (const f of findings) counts[f.severity]++;
  const evidenceNotices: Notice[] = [];
  const checklist = CHECKLIST.map((item): ChecklistItem => {
    // A finding fails its item unless the rule reported it as a note below its own catalog level (PyJWT 2's no-op
    // `verify=False`, a 401 missing `WWW-Authenticate`): those are advice, not a broken guarantee.
    const failing = findings.filter((f) => item.codes.includes(f.code) && !isNote(f));
    if (failing.length > 0) {
      return { ...item, status: 'fails', findings: failing, evidence: failing.map((f) => ({ file: f.file, range: f.range, message: f.message })) };
    }
    let evidence: RelatedLocation[] = [];
    try {
      evidence = evidenceProviders.get(item.id)?.(ws) ?? [];
    } catch (err) {
      // Evidence is a courtesy of the report: a provider that trips on odd code leaves the item "not applicable".
      evidenceNotices.push({ level: 'warning', message: `checklist item ${item.id}: evidence could not be gathered: ${(err as Error).message}` });
    }
    return { ...item, status: evidence.length > 0 ? 'holds' : 'not-applicable', findings: [], evidence };
  });
  return { root: ws.root, files: ws.allFiles().length, findings, notices: [...notices, ...evidenceNotices], checklist, counts };
}

/** True when a finding was reported below its rule's catalog severity (a note of the rule). */
function isNote(f: Finding): boolean {
  const rule = ruleByCode(f.code);
  return !!rule && SEVERITY_ORDER[f.severity] > SEVERITY_ORDER[rule.severity];
}
