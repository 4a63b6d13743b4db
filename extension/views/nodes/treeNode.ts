/**
 * The base of every node in Pagewalk's trees, plus the two leaf kinds every tree needs: a message
 * ("not paused", an error) and a plain `name: value` line. Nodes are built from data fetched once per
 * stop; only expanding a node fetches more (a page table's entries).
 */
import * as vscode from 'vscode';

export abstract class TreeNode {
  /** Stable across stops, so VS Code keeps the node's expansion state. */
  abstract readonly id: string;
  abstract getTreeItem(): vscode.TreeItem;
  getChildren(): Promise<TreeNode[]> {
    return Promise.resolve([]);
  }
  /** Fills a tooltip lazily, on hover (`resolveTreeItem`). */
  resolveTooltip(): Promise<vscode.MarkdownString | undefined> {
    return Promise.resolve(undefined);
  }
}

export class MessageNode extends TreeNode {
  constructor(
    readonly id: string,
    private readonly message: string,
    private readonly icon = 'info',
  ) {
    super();
  }

  getTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.message, vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.iconPath = new vscode.ThemeIcon(this.icon);
    item.contextValue = 'message';
    return item;
  }
}

export class InfoNode extends TreeNode {
  constructor(
    readonly id: string,
    private readonly name: string,
    private readonly value: string,
    private readonly options: {
      icon?: string;
      tooltip?: string;
      changed?: boolean;
      contextValue?: string;
    } = {},
  ) {
    super();
  }

  getTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.name, vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.description = this.value;
    if (this.options.icon) item.iconPath = new vscode.ThemeIcon(this.options.icon);
    if (this.options.tooltip) item.tooltip = new vscode.MarkdownString(this.options.tooltip);
    item.contextValue = this.options.contextValue ?? 'info';
    if (this.options.changed) {
      item.label = { label: this.name, highlights: [[0, this.name.length]] };
      item.iconPath = new vscode.ThemeIcon('circle-filled', new vscode.ThemeColor('charts.orange'));
      item.description = `${this.value} (changed)`;
    }
    return item;
  }
}

/** Children of a failed fetch: one error line instead of an exception in the view. */
export function errorChildren(id: string, e: unknown): TreeNode[] {
  const message = e instanceof Error ? e.message : String(e);
  return [new MessageNode(`${id}/error`, message, 'error')];
}
