/**
 * What every output format needs besides the findings: how to show a path (relative to the working directory),
 * the current text of a file, the tool version, the threshold, and whether to colour. Built once by main.ts.
 */
import * as path from 'path';
import type { Finding, Severity } from '../core/types';

export interface OutputContext {
  cwd: string;
  version: string;
  color: boolean;
  threshold: Severity;
  /** The file's text as analysed (after fixes, when --fix ran). */
  textOf(file: string): string | undefined;
}

/** Relative to `cwd` with forward slashes when inside it; absolute otherwise. */
export function displayPath(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel.split(path.sep).join('/');
  return rel === '' ? '.' : file;
}

export interface FixCounts {
  /** Findings with a safe fix (`--fix` applies them). */
  safe: number;
  /** Findings whose only fix is unsafe (`--unsafe-fixes`). */
  unsafe: number;
}

export function fixCounts(findings: readonly Finding[]): FixCounts {
  let safe = 0;
  let unsafe = 0;
  for (const f of findings) {
    if (!f.fix || f.fix.edits.length === 0) continue;
    if (f.fix.safety === 'safe') safe++;
    else if (f.fix.safety === 'unsafe') unsafe++;
  }
  return { safe, unsafe };
}

/** Counts per rule, most frequent first, then by code. */
export function statistics(findings: readonly Finding[]): { code: string; name: string; count: number; fixable: number }[] {
  const byCode = new Map<string, { code: string; name: string; count: number; fixable: number }>();
  for (const f of findings) {
    const entry = byCode.get(f.code) ?? { code: f.code, name: f.name, count: 0, fixable: 0 };
    entry.count++;
    if (f.fix?.safety === 'safe' && f.fix.edits.length > 0) entry.fixable++;
    byCode.set(f.code, entry);
  }
  return [...byCode.values()].sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : 1));
}
