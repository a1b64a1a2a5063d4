/**
 * Inline fixture expectations in semgrep-rules' words: `# ruleid: CODE` (a finding must start on the next code
 * line, or on this line when the comment ends a line of code), `# ok: CODE` (must stay clean), `# todoruleid:` and
 * `# todook:` (known misses and known false positives, reported when they start passing).
 */
export type ExpectationKind = 'ruleid' | 'ok' | 'todoruleid' | 'todook';

export interface Expectation {
  kind: ExpectationKind;
  code: string;
  /** 0-based line the finding must (or must not) start on. */
  line: number;
  /** 0-based line of the annotation comment. */
  annotationLine: number;
}

const ANNOTATION = /#\s*(ruleid|ok|todoruleid|todook)\s*:\s*([A-Z]{3}\d{3}(?:\s*,\s*[A-Z]{3}\d{3})*)/;

export function parseExpectations(text: string): Expectation[] {
  const lines = text.split('\n');
  const out: Expectation[] = [];
  lines.forEach((line, i) => {
    const m = ANNOTATION.exec(line);
    if (!m) return;
    const before = line.slice(0, m.index).trim();
    let target = i;
    if (before === '') {
      target = i + 1;
      while (target < lines.length && (lines[target].trim() === '' || lines[target].trim().startsWith('#'))) target++;
    }
    for (const code of m[2].split(',').map((c) => c.trim())) {
      out.push({ kind: m[1] as ExpectationKind, code, line: target, annotationLine: i });
    }
  });
  return out;
}
