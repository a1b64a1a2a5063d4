/**
 * The API the extension returns from `activate()`, for integration tests in a real VS Code (and for other
 * extensions). Plain data only: snapshots of the views, never live tree items. Must not import `vscode`, so a
 * test can import these types without an extension host.
 * Invariant: this shape is a contract with the editor test suite; only add optional members.
 */

/** One node of a tree view as the user sees it: label, description, and its (already expanded) children. */
export interface TreeSnapshot {
  label: string;
  description?: string;
  /** The icon id (`error`, `warning`, `info`, `pass`, `close`, `circle-slash`, `file`, ...), when the node has one. */
  icon?: string;
  children: TreeSnapshot[];
}

export interface JwtApiSecurityApi {
  /** Resolves once the language server has started and finished indexing the workspace. */
  ready(): Promise<void>;
  /** Runs Audit Workspace (as the command does, without opening the preview) and says where the report was written. */
  auditWorkspace(): Promise<{ reportPath: string }>;
  /** The Findings view, fully expanded, in the current grouping. */
  findingsTree(): TreeSnapshot[];
  /** The Checklist view, fully expanded (empty before the first audit). */
  checklistTree(): TreeSnapshot[];
  /** The number of diagnostics this extension currently shows in the Problems view, across all files. */
  diagnosticsCount(): number;
}
