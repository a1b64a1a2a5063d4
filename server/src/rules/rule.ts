/**
 * The rule framework: rule metadata as data (code, name, severity, fix availability, checklist items, messages,
 * docs) and the context a rule's `check` receives. Knows nothing of LSP, argv or output formats.
 */
import type { Node } from 'web-tree-sitter';
import type { Fix, Range, RelatedLocation, Severity } from '../core/types';
import type { Settings } from '../core/settings';
import type { ModuleModel } from '../python/module-model';
import type { Workspace, WorkspaceFile } from '../workspace/workspace';

export type FixAvailability = 'none' | 'sometimes' | 'always';

export interface RuleMeta<M extends string = string> {
  code: string;
  name: string;
  severity: Severity;
  fix: FixAvailability;
  /** Checklist items (1-12) a finding of this rule makes fail. */
  checklist: number[];
  /** Messages by id; `{name}` placeholders are filled from the report's data. */
  messages: Record<M, string>;
  /**
   * Markdown with the fixed headings: What it does / Why is this bad? / Example / Use instead / Fix safety /
   * References. The Example and Use instead sections hold one ```python block each; a test runs the rule on both.
   */
  docs: string;
  /**
   * Where the rule can report, tested before the file is parsed (as Semgrep does): a file it rejects cannot produce
   * a finding of this rule, so the analysis skips the rule there, and the parse when no rule is left. A RegExp is
   * tested on the text; a function may also ask the workspace (the app graph, a memoized workspace-wide result) and
   * parse other files lazily. Undefined: the rule runs on every file. It must accept every file the rule can report
   * in; the prescan-equivalence test checks that results are identical with and without it.
   */
  prescan?: Prescan;
}

export type Prescan = RegExp | ((file: WorkspaceFile, workspace: Workspace) => boolean);

/** False when the rule's prescan shows it cannot report in `file`. */
export function mayReport(rule: RuleMeta, file: WorkspaceFile, workspace: Workspace): boolean {
  const prescan = rule.prescan;
  if (!prescan) return true;
  if (prescan instanceof RegExp) return prescan.test(file.text);
  try {
    return prescan(file, workspace);
  } catch {
    // Odd code that trips the prescan is left to the rule, whose own failure is reported as a notice.
    return true;
  }
}

export interface ReportInput<M extends string = string> {
  node?: Node;
  range?: Range;
  messageId: M;
  data?: Record<string, string | number>;
  fix?: Fix;
  related?: RelatedLocation[];
  /** A weaker level for a note of the same rule (e.g. a no-op option reported as a suggestion). */
  severity?: Severity;
}

export interface RuleContext<M extends string = string> {
  readonly file: WorkspaceFile;
  readonly model: ModuleModel;
  readonly workspace: Workspace;
  readonly settings: Settings;
  report(input: ReportInput<M>): void;
}

/** For rules about the workspace as a whole (`.env` files, `.gitignore`): reports carry their own file. */
export interface WorkspaceRuleContext<M extends string = string> {
  readonly workspace: Workspace;
  settingsFor(file: string): Settings;
  report(input: ReportInput<M> & { file: string }): void;
}

export interface Rule<M extends string = string> extends RuleMeta<M> {
  /** Runs once per Python file. */
  check(ctx: RuleContext<M>): void;
  /** Runs once per analysis of the whole workspace, for findings outside Python files. */
  checkWorkspace?(ctx: WorkspaceRuleContext<M>): void;
}

export function defineRule<M extends string>(rule: Rule<M>): Rule<M> {
  return rule;
}

/** Fills `{placeholder}`s; unknown placeholders are left visible so a test catches them. */
export function formatMessage(template: string, data: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in data ? String(data[key]) : whole));
}
