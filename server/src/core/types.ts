/**
 * Plain data shared by the analyzer, the CLI and the language server: positions, edits, fixes, findings.
 * Must not know LSP, VS Code or the command line.
 * Invariant: positions are 0-based lines and UTF-16 columns (what JS strings and LSP use).
 */

export type Severity = 'critical' | 'warning' | 'suggestion';

export const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, suggestion: 2 };

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface TextEdit {
  range: Range;
  newText: string;
}

/** Like Ruff: safe fixes are applied by `--fix` and "fix all"; unsafe ones only on request. */
export type FixSafety = 'safe' | 'unsafe' | 'display-only';

export interface Fix {
  title: string;
  safety: FixSafety;
  /** Edits to the finding's own file; they never overlap. */
  edits: TextEdit[];
}

export interface RelatedLocation {
  file: string;
  range: Range;
  message: string;
}

export interface Finding {
  code: string;
  name: string;
  severity: Severity;
  message: string;
  /** Absolute path of the file the finding is in. */
  file: string;
  range: Range;
  fix?: Fix;
  related: RelatedLocation[];
  /** Checklist items (1-12) this finding makes fail. */
  checklist: number[];
}

/** A problem with the input itself (unreadable file, bad configuration) rather than the code. */
export interface Notice {
  level: 'error' | 'warning' | 'info';
  file?: string;
  message: string;
}

export function compareFindings(a: Finding, b: Finding): number {
  return (
    (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
    a.range.start.line - b.range.start.line ||
    a.range.start.character - b.range.start.character ||
    (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) ||
    (a.message < b.message ? -1 : a.message > b.message ? 1 : 0)
  );
}
