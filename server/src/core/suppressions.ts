/**
 * Suppression comments: `# jwt-api-security: ignore[CODE, ...]` at the end of the reported line or alone on the
 * line directly above it; with no codes it silences every code on that line. Tracks which comments were used so
 * the audit can report unused ones (SUP001).
 */
import type { Node } from 'web-tree-sitter';
import type { Finding, Range } from './types';

const PATTERN = /#\s*jwt-api-security:\s*ignore(?:\[([^\]]*)\])?/;

export interface Suppression {
  /** The line whose findings it silences. */
  line: number;
  /** Codes it silences; undefined for all. */
  codes?: string[];
  range: Range;
  used: Set<string>;
  /** True when it silences something. */
  usedAny: boolean;
}

/** Reads suppression comments from the comment nodes of a tree. */
export function collectSuppressions(root: Node, text: string): Suppression[] {
  const out: Suppression[] = [];
  if (!text.includes('jwt-api-security:')) return out;
  for (const comment of root.descendantsOfType('comment')) {
    if (!comment) continue;
    const m = PATTERN.exec(comment.text);
    if (!m) continue;
    const row = comment.startPosition.row;
    const lineStart = text.lastIndexOf('\n', comment.startIndex - 1) + 1;
    const ownLine = text.slice(lineStart, comment.startIndex).trim() === '';
    out.push({
      line: ownLine ? nextCodeLine(text, row) : row,
      codes: m[1] === undefined ? undefined : m[1].split(',').map((c) => c.trim().toUpperCase()).filter(Boolean),
      range: {
        start: { line: row, character: comment.startPosition.column },
        end: { line: comment.endPosition.row, character: comment.endPosition.column },
      },
      used: new Set(),
      usedAny: false,
    });
  }
  return out;
}

function nextCodeLine(text: string, row: number): number {
  const lines = text.split('\n');
  for (let r = row + 1; r < lines.length; r++) {
    const t = lines[r].trim();
    if (t && !t.startsWith('#')) return r;
  }
  return row + 1;
}

/** Drops findings silenced by a suppression, marking the suppressions that were used. */
export function applySuppressions(findings: Finding[], suppressions: Suppression[]): Finding[] {
  if (suppressions.length === 0) return findings;
  return findings.filter((f) => {
    let silenced = false;
    for (const s of suppressions) {
      if (s.line !== f.range.start.line) continue;
      if (s.codes === undefined || s.codes.includes(f.code)) {
        s.used.add(f.code);
        s.usedAny = true;
        silenced = true;
      }
    }
    return !silenced;
  });
}

/** The text to append to a line to silence `code`. */
export function suppressionComment(code: string): string {
  return `  # jwt-api-security: ignore[${code}]`;
}
