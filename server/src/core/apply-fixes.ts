/**
 * Applies findings' fixes to file texts: non-overlapping, safe ones unless unsafe ones are asked for, repeated
 * until nothing more applies (a fix can reveal or settle another finding). Pure text in, text out.
 */
import { analyzeFile, type AnalyzeOptions } from './analyze';
import { applyEdits, rangesOverlap } from './text';
import type { Finding, TextEdit } from './types';
import type { Workspace } from '../workspace/workspace';

export interface FixOptions {
  /** Apply unsafe fixes too (`--unsafe-fixes`). */
  unsafe?: boolean;
  /** Only fixes of these codes. */
  codes?: readonly string[];
}

export function isApplicable(f: Finding, options: FixOptions): boolean {
  if (!f.fix || f.fix.edits.length === 0) return false;
  if (options.codes && !options.codes.includes(f.code)) return false;
  return f.fix.safety === 'safe' || (f.fix.safety === 'unsafe' && !!options.unsafe);
}

/**
 * Applies as many fixes of `findings` (all in one file) as do not overlap one another, in source order.
 * Identical edits from several fixes (two fixes adding the same import) are applied once.
 */
export function applyFixes(text: string, findings: readonly Finding[], options: FixOptions = {}): { text: string; applied: Finding[] } {
  const chosen: TextEdit[] = [];
  const applied: Finding[] = [];
  const key = (e: TextEdit) => `${e.range.start.line}:${e.range.start.character}:${e.range.end.line}:${e.range.end.character}:${e.newText}`;
  for (const f of findings) {
    if (!isApplicable(f, options)) continue;
    const keys = new Set(chosen.map(key));
    const fresh = f.fix!.edits.filter((e) => !keys.has(key(e)));
    if (fresh.some((e) => chosen.some((c) => rangesOverlap(c.range, e.range)))) continue;
    chosen.push(...fresh);
    applied.push(f);
  }
  return { text: chosen.length ? applyEdits(text, chosen) : text, applied };
}

/**
 * Fixes one workspace file until no applicable fix remains (at most `maxPasses` rounds), updating the workspace.
 * Returns the final text and the findings whose fixes were applied.
 */
export function fixFile(
  ws: Workspace,
  filePath: string,
  options: FixOptions = {},
  analyzeOptions: AnalyzeOptions = {},
  maxPasses = 10,
): { text: string; applied: Finding[] } {
  const file = ws.file(filePath);
  if (!file) throw new Error(`not in the workspace: ${filePath}`);
  let text = file.text;
  const applied: Finding[] = [];
  for (let pass = 0; pass < maxPasses; pass++) {
    const { findings } = analyzeFile(ws, filePath, analyzeOptions);
    const result = applyFixes(text, findings, options);
    if (result.applied.length === 0 || result.text === text) break;
    applied.push(...result.applied);
    text = result.text;
    ws.setFile(filePath, text);
  }
  return { text, applied };
}
