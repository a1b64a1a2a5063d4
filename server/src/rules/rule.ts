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
   * A cheap text test: a file whose text does not match cannot produce a finding of this rule, so the analysis
   * may skip it without parsing (as Semgrep does). Undefined: the rule runs on every file. It must be a superset
   * of the rule's triggers; the prescan-equivalence test checks that results are identical with and without it.
   */
  prescan?: RegExp;
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
