/**
 * The machine-readable output: findings, notices, checklist, counts and the tool version as one JSON document.
 *
 * Positions: `location` / `endLocation` are 1-based lines and 1-based columns counted in UTF-16 code units (the
 * numbers the text output prints; `endLocation` points just past the last character, like SARIF's endColumn);
 * `range` is the analyzer's own 0-based line/character pair (UTF-16), the LSP convention. Fix edits carry both.
 * Paths are relative to the working directory when inside it (`file`), and absolute (`absolutePath`).
 */
import type { AuditResult, ChecklistItem } from '../../core/audit';
import type { Finding, Notice, Range, RelatedLocation } from '../../core/types';
import { displayPath, statistics, type OutputContext } from '../context';

export const JSON_SCHEMA_VERSION = 1;

function loc(range: Range) {
  return {
    location: { line: range.start.line + 1, column: range.start.character + 1 },
    endLocation: { line: range.end.line + 1, column: range.end.character + 1 },
    range,
  };
}

function related(r: RelatedLocation, ctx: OutputContext) {
  return { file: displayPath(r.file, ctx.cwd), absolutePath: r.file, message: r.message, ...loc(r.range) };
}

function finding(f: Finding, ctx: OutputContext) {
  return {
    code: f.code,
    name: f.name,
    severity: f.severity,
    message: f.message,
    file: displayPath(f.file, ctx.cwd),
    absolutePath: f.file,
    ...loc(f.range),
    fix: f.fix
      ? {
          title: f.fix.title,
          safety: f.fix.safety,
          edits: f.fix.edits.map((e) => ({ content: e.newText, ...loc(e.range) })),
        }
      : null,
    related: f.related.map((r) => related(r, ctx)),
    checklist: f.checklist,
  };
}

function notice(n: Notice, ctx: OutputContext) {
  return { level: n.level, file: n.file ? displayPath(n.file, ctx.cwd) : null, message: n.message };
}

function checklistItem(item: ChecklistItem, ctx: OutputContext) {
  return {
    id: item.id,
    title: item.title,
    status: item.status,
    rules: item.codes,
    evidence: item.evidence.map((e) => related(e, ctx)),
    findings: item.findings.length,
  };
}

export interface JsonExtras {
  /** Findings listed (after the severity threshold). */
  findings: readonly Finding[];
  /** Number of findings fixed in this run (--fix). */
  fixed?: number;
  statisticsOnly?: boolean;
}

export function renderJson(result: AuditResult, extras: JsonExtras, ctx: OutputContext): string {
  const counts = { critical: 0, warning: 0, suggestion: 0 };
  for (const f of extras.findings) counts[f.severity]++;
  const doc: Record<string, unknown> = {
    tool: 'jwt-api-security',
    version: ctx.version,
    schemaVersion: JSON_SCHEMA_VERSION,
    root: displayPath(result.root, ctx.cwd),
    files: result.files,
    threshold: ctx.threshold,
    counts,
    fixed: extras.fixed ?? 0,
    statistics: statistics(extras.findings),
  };
  if (!extras.statisticsOnly) {
    doc.findings = extras.findings.map((f) => finding(f, ctx));
    doc.notices = result.notices.map((n) => notice(n, ctx));
    doc.checklist = result.checklist.map((c) => checklistItem(c, ctx));
  }
  return `${JSON.stringify(doc, null, 2)}\n`;
}
