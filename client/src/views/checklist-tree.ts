/**
 * The Checklist view: the twelve items of the last Audit Workspace with holds / fails / not-applicable icons,
 * expanding to their evidence (click to reveal). A thin adapter over views/grouping.ts; knows nothing of the
 * server beyond the audit result it is given.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import type { FolderAudit } from '../../../server/src/protocol';
import { checklistNodes, snapshot, type ChecklistEntry, type Node } from './grouping';
import { severityColor } from './findings-tree';
import type { TreeSnapshot } from '../api';

export const CHECKLIST_VIEW = 'jwtApiSecurity.checklist';

/** One folder's checklist as entries; several folders are merged item by item (the worst status wins). */
export function checklistEntries(folders: readonly FolderAudit[]): ChecklistEntry[] {
  const rank = { fails: 0, holds: 1, 'not-applicable': 2 } as const;
  const byId = new Map<number, ChecklistEntry>();
  for (const folder of folders) {
    const prefix = folders.length > 1 ? `${path.basename(folder.root)}/` : '';
    for (const item of folder.checklist) {
      const evidence = item.evidence.map((e) => ({
        file: e.file,
        displayPath: prefix + path.relative(folder.root, e.file).split(path.sep).join('/'),
        range: e.range,
        message: e.message,
      }));
      const prev = byId.get(item.id);
      if (!prev) {
        byId.set(item.id, { id: item.id, title: item.title, status: item.status, evidence });
        continue;
      }
      // A failure anywhere fails the item; only then is the evidence the failures alone.
      if (rank[item.status] < rank[prev.status]) byId.set(item.id, { ...prev, status: item.status, evidence });
      else if (item.status === prev.status) prev.evidence.push(...evidence);
    }
  }
  return [...byId.values()];
}

export class ChecklistTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<Node>;
  private roots: Node[] = [];

  constructor() {
    this.view = vscode.window.createTreeView(CHECKLIST_VIEW, { treeDataProvider: this, showCollapseAll: true });
  }

  show(folders: readonly FolderAudit[]): void {
    this.roots = checklistNodes(checklistEntries(folders));
    void vscode.commands.executeCommand('setContext', 'jwtApiSecurity.audited', this.roots.length > 0);
    const failing = this.roots.filter((n) => n.kind === 'check' && n.entry.status === 'fails').length;
    this.view.description = this.roots.length > 0 ? `${this.roots.length - failing}/${this.roots.length} pass` : undefined;
    this.changed.fire(undefined);
  }

  snapshot(): TreeSnapshot[] {
    return snapshot(this.roots);
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const item = new vscode.TreeItem(node.label, node.children.length > 0 ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    item.description = node.description;
    if (node.icon) item.iconPath = new vscode.ThemeIcon(node.icon, severityColor(node.icon));
    if (node.kind === 'evidence') {
      item.command = { title: 'Reveal', command: 'jwtApiSecurity.revealLocation', arguments: [node.location] };
      item.tooltip = node.label;
    }
    return item;
  }

  getChildren(node?: Node): Node[] {
    return node ? node.children : this.roots;
  }

  dispose(): void {
    this.view.dispose();
    this.changed.dispose();
  }
}
