/**
 * Runs the analyzer for the server: one file at a time, with a time budget per file, and the analyzer's notices
 * (a rule that threw, a file that could not be parsed) logged once per rule and file instead of on every
 * keystroke. Knows nothing of the connection beyond the logger it is given; returns plain findings.
 */
import * as path from 'path';
import { performance } from 'perf_hooks';
import { analyzeFile, analyzeWorkspaceLevel, type FileAnalysis } from '../core/analyze';
import type { Notice } from '../core/types';
import type { Workspace } from '../workspace/workspace';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Analysis slower than this on one file is logged (once per file): a rule is likely pathological on it. */
export const FILE_BUDGET_MS = 1500;

export class Analyzer {
  private readonly logged = new Set<string>();

  constructor(
    private readonly log: Logger,
    private readonly budgetMs = FILE_BUDGET_MS,
  ) {}

  /**
   * Findings of one file. Never throws: an unexpected failure is logged and the file shows nothing.
   * The result is a workspace memo: after an edit elsewhere, an open document whose analysis read nothing the edit
   * touched (the memo table tracks every workspace read, see workspace/memo-deps.ts) is answered without re-running
   * the rules. The copies keep callers from changing the memoized arrays.
   */
  file(ws: Workspace, file: string): FileAnalysis {
    const start = performance.now();
    let result: FileAnalysis;
    try {
      const memo = ws.memo(`lsp:analysis:${path.resolve(file)}`, () => analyzeFile(ws, file, { reportUnusedSuppressions: true }));
      result = { findings: [...memo.findings], notices: [...memo.notices] };
    } catch (err) {
      this.once(`crash:${file}`, 'error', `analysis of ${file} failed: ${(err as Error).stack ?? err}`);
      return { findings: [], notices: [] };
    }
    const ms = performance.now() - start;
    if (ms > this.budgetMs) {
      this.once(`slow:${file}`, 'warn', `analysis of ${file} took ${Math.round(ms)} ms (budget ${this.budgetMs} ms)`);
    }
    this.notices(result.notices);
    return result;
  }

  /** Findings of the workspace-level checks (`.env` files and the like). Never throws. */
  workspaceLevel(ws: Workspace): FileAnalysis {
    try {
      const result = analyzeWorkspaceLevel(ws, { reportUnusedSuppressions: true });
      this.notices(result.notices);
      return result;
    } catch (err) {
      this.once(`crash:workspace:${ws.root}`, 'error', `workspace checks of ${ws.root} failed: ${(err as Error).stack ?? err}`);
      return { findings: [], notices: [] };
    }
  }

  /** Logs analyzer notices, each once: per rule and file for a rule that threw, else per message. */
  notices(notices: readonly Notice[]): void {
    for (const n of notices) {
      const rule = /^rule (\w+) failed/.exec(n.message)?.[1];
      const key = rule ? `rule:${rule}:${n.file ?? ''}` : `notice:${n.file ?? ''}:${n.message}`;
      const level = n.level === 'error' ? 'error' : n.level === 'warning' ? 'warn' : 'info';
      this.once(key, level, n.file ? `${n.file}: ${n.message}` : n.message);
    }
  }

  private once(key: string, level: keyof Logger, message: string): void {
    if (this.logged.has(key)) return;
    this.logged.add(key);
    this.log[level](message);
  }
}
