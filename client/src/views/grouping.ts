/**
 * The summary panel's content as plain trees: findings grouped by severity -> file -> finding or by rule ->
 * finding, with counts in the labels, and the checklist with its evidence; plus the snapshot form the extension
 * API returns. Pure data in, data out: no `vscode` import, so it is unit-tested without an editor.
 */
import type { TreeSnapshot } from '../api';

export type Severity = 'critical' | 'warning' | 'suggestion';
export type GroupBy = 'severity' | 'rule';

export interface Position {
  line: number;
  character: number;
}

/** One finding as the panel needs it (built from the editor's diagnostics). */
export interface FindingItem {
  /** Absolute path. */
  file: string;
  /** Path shown to the user (relative to its workspace folder). */
  displayPath: string;
  code: string;
  severity: Severity;
  message: string;
  range: { start: Position; end: Position };
  /** True when the diagnostic carries a quick fix the editor can apply. */
  fixable: boolean;
}

export interface ChecklistEntry {
  id: number;
  title: string;
  status: 'holds' | 'fails' | 'not-applicable';
  evidence: { file: string; displayPath: string; range: { start: Position; end: Position }; message: string }[];
}

export type Node =
  | { kind: 'group'; id: string; label: string; description?: string; icon?: string; children: Node[] }
  | { kind: 'finding'; id: string; label: string; description?: string; icon: string; finding: FindingItem; children: [] }
  | { kind: 'check'; id: string; label: string; description?: string; icon: string; entry: ChecklistEntry; children: Node[] }
  | {
      kind: 'evidence';
      id: string;
      label: string;
      description?: string;
      icon: string;
      location: { file: string; range: { start: Position; end: Position } };
      children: [];
    };

const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'suggestion'];
const SEVERITY_TITLE: Record<Severity, string> = { critical: 'Critical', warning: 'Warning', suggestion: 'Suggestion' };
/** Codicon ids, the same as the Problems view uses for error, warning and info. */
export const SEVERITY_ICON: Record<Severity, string> = { critical: 'error', warning: 'warning', suggestion: 'info' };
export const CHECK_ICON: Record<ChecklistEntry['status'], string> = { holds: 'pass', fails: 'error', 'not-applicable': 'circle-slash' };
const CHECK_LABEL: Record<ChecklistEntry['status'], string> = { holds: 'holds', fails: 'fails', 'not-applicable': 'not applicable' };

function byPosition(a: FindingItem, b: FindingItem): number {
  return a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character || cmp(a.code, b.code);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function findingNode(f: FindingItem, withFile: boolean): Node {
  const where = `${withFile ? `${f.displayPath}:` : 'line '}${f.range.start.line + 1}`;
  return {
    kind: 'finding',
    id: `${f.file}#${f.code}#${f.range.start.line}:${f.range.start.character}#${f.message}`,
    label: `${f.code}: ${f.message}`,
    description: where,
    icon: SEVERITY_ICON[f.severity],
    finding: f,
    children: [],
  };
}

/** Findings grouped for the Findings view. Empty groups are left out; order is stable. */
export function groupFindings(findings: readonly FindingItem[], by: GroupBy): Node[] {
  return by === 'severity' ? bySeverity(findings) : byRule(findings);
}

function bySeverity(findings: readonly FindingItem[]): Node[] {
  const out: Node[] = [];
  for (const severity of SEVERITIES) {
    const ofSeverity = findings.filter((f) => f.severity === severity);
    if (ofSeverity.length === 0) continue;
    const files = [...new Set(ofSeverity.map((f) => f.file))].sort((a, b) => cmp(displayOf(ofSeverity, a), displayOf(ofSeverity, b)));
    out.push({
      kind: 'group',
      id: `severity:${severity}`,
      label: `${SEVERITY_TITLE[severity]} (${ofSeverity.length})`,
      icon: SEVERITY_ICON[severity],
      children: files.map((file): Node => {
        const inFile = ofSeverity.filter((f) => f.file === file).sort(byPosition);
        return {
          kind: 'group',
          id: `severity:${severity}:${file}`,
          label: displayOf(inFile, file),
          description: count(inFile.length, 'finding'),
          icon: 'file',
          children: inFile.map((f) => findingNode(f, false)),
        };
      }),
    });
  }
  return out;
}

function byRule(findings: readonly FindingItem[]): Node[] {
  const codes = [...new Set(findings.map((f) => f.code))].sort(cmp);
  return codes.map((code): Node => {
    const ofRule = findings.filter((f) => f.code === code).sort((a, b) => cmp(a.displayPath, b.displayPath) || byPosition(a, b));
    // A rule's findings share a severity unless overrides or notes differ; the group shows the most severe.
    const severity = SEVERITIES.find((s) => ofRule.some((f) => f.severity === s))!;
    return {
      kind: 'group',
      id: `rule:${code}`,
      label: `${code} (${ofRule.length})`,
      icon: SEVERITY_ICON[severity],
      children: ofRule.map((f) => findingNode(f, true)),
    };
  });
}

function displayOf(findings: readonly FindingItem[], file: string): string {
  return findings.find((f) => f.file === file)?.displayPath ?? file;
}

/** The Checklist view: the items in order, each expanding to its evidence (or its failing findings' places). */
export function checklistNodes(entries: readonly ChecklistEntry[]): Node[] {
  return [...entries]
    .sort((a, b) => a.id - b.id)
    .map((entry): Node => ({
      kind: 'check',
      id: `check:${entry.id}`,
      label: `${entry.id}. ${plain(entry.title)}`,
      description: entry.evidence.length > 0 ? `${CHECK_LABEL[entry.status]} · ${count(entry.evidence.length, 'place')}` : CHECK_LABEL[entry.status],
      icon: CHECK_ICON[entry.status],
      entry,
      children: entry.evidence.map((e, i): Node => ({
        kind: 'evidence',
        id: `check:${entry.id}:${i}`,
        label: e.message,
        description: `${e.displayPath}:${e.range.start.line + 1}`,
        icon: entry.status === 'fails' ? 'error' : 'pass',
        location: { file: e.file, range: e.range },
        children: [],
      })),
    }));
}

/** Checklist titles carry Markdown code spans; tree labels are plain text. */
function plain(markdown: string): string {
  return markdown.replace(/`([^`]*)`/g, '$1');
}

/** Severity counts of a list of findings. */
export function countBySeverity(findings: readonly FindingItem[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { critical: 0, warning: 0, suggestion: 0 };
  for (const f of findings) counts[f.severity]++;
  return counts;
}

/** The API's snapshot of a tree: labels, descriptions and icons, fully expanded. */
export function snapshot(nodes: readonly Node[]): TreeSnapshot[] {
  return nodes.map((n) => {
    const s: TreeSnapshot = { label: n.label, children: snapshot(n.children) };
    if (n.description !== undefined) s.description = n.description;
    if (n.icon !== undefined) s.icon = n.icon;
    return s;
  });
}
