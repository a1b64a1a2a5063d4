/**
 * `--fix` and `--diff`: applies the fixes of listed findings file by file through core/apply-fixes.ts, writing
 * each file atomically (write-file.ts) or collecting a unified diff (diff.ts). Problems become notices.
 */
import { fixFile, isApplicable } from '../core/apply-fixes';
import type { ReadFile } from '../core/discover';
import type { Finding, Notice } from '../core/types';
import type { Workspace } from '../workspace/workspace';
import { displayPath } from './context';
import { unifiedDiff } from './diff';
import { writeFixedFile } from './write-file';

export interface FixOutcome {
  applied: number;
  filesChanged: number;
  diff: string;
}

/**
 * Applies fixes file by file (safe ones; unsafe too with --unsafe-fixes) for the rules whose findings are listed,
 * writing each file atomically (--fix) or collecting a unified diff (--diff). A file that cannot be written keeps
 * its original text in the workspace, so what is reported afterwards matches the disk.
 */
export function applyFixes(
  ws: Workspace,
  findings: readonly Finding[],
  sources: ReadonlyMap<string, ReadFile>,
  options: { fix: boolean; diff: boolean; unsafeFixes: boolean },
  cwd: string,
  notices: Notice[],
): FixOutcome {
  const fixOptions = { unsafe: options.unsafeFixes, codes: [...new Set(findings.map((f) => f.code))] };
  const files = [...new Set(findings.filter((f) => isApplicable(f, fixOptions)).map((f) => f.file))].sort();
  const outcome: FixOutcome = { applied: 0, filesChanged: 0, diff: '' };
  for (const file of files) {
    const original = ws.file(file);
    const source = sources.get(file);
    if (!original || !source) continue;
    if (!source.source.writable && options.fix) {
      notices.push({ level: 'warning', file, message: `fixes not applied: the file is not plain UTF-8 (${source.source.encoding})` });
      continue;
    }
    const before = original.text;
    let fixedText: string;
    let appliedCount: number;
    try {
      const r = fixFile(ws, file, fixOptions, { reportUnusedSuppressions: true });
      fixedText = r.text;
      appliedCount = r.applied.length;
    } catch (err) {
      ws.setFile(file, before);
      notices.push({ level: 'error', file, message: `fixes not applied: ${(err as Error).message}` });
      continue;
    }
    if (fixedText === before) continue;
    if (options.diff) {
      outcome.diff += unifiedDiff(before, fixedText, displayPath(file, cwd));
      ws.setFile(file, before);
    } else {
      const written = writeFixedFile(file, fixedText, source);
      if (!written.ok) {
        ws.setFile(file, before);
        notices.push({ level: 'warning', file, message: `fixes ${written.reason}` });
        continue;
      }
    }
    outcome.applied += appliedCount;
    outcome.filesChanged++;
  }
  return outcome;
}
