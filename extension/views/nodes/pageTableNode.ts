/**
 * A page table, fetched when expanded. Its 512 entries arrive with runs of empty slots merged into
 * one row; when more rows remain than `chunkSize`, they are grouped into chunk nodes
 * (`[0–63]`, …) so a busy table never floods the view.
 */
import * as vscode from 'vscode';
import type { PageTableEntryRow } from '../../../debug-adapter/protocol';
import { ENTRIES_PER_TABLE, readTableRows } from '../pageTableSource';
import type { TableLocation } from '../pageTableSource';
import { EntryNode, NotPresentRunNode } from './entryNode';
import type { TreeContext } from './treeContext';
import { TreeNode, errorChildren } from './treeNode';

export interface PageTableSpec {
  id: string;
  label: string;
  description: string;
  location: TableLocation;
}

export class PageTableNode extends TreeNode {
  readonly id: string;

  constructor(
    private readonly ctx: TreeContext,
    private readonly spec: PageTableSpec,
  ) {
    super();
    this.id = spec.id;
  }

  get location(): TableLocation {
    return this.spec.location;
  }

  getTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.spec.label, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = this.id;
    item.description = this.spec.description;
    item.iconPath = new vscode.ThemeIcon('type-hierarchy');
    item.contextValue = 'pageTable';
    return item;
  }

  override async getChildren(): Promise<TreeNode[]> {
    let rows: PageTableEntryRow[];
    try {
      rows = await readTableRows(this.ctx.sessions, this.spec.location, 0, ENTRIES_PER_TABLE);
    } catch (e) {
      return errorChildren(this.id, e);
    }
    const nodes = rows.map((r) => this.rowNode(r));
    const size = Math.max(8, this.ctx.chunkSize);
    if (nodes.length <= size) return nodes;
    const chunks: TreeNode[] = [];
    for (let i = 0; i < nodes.length; i += size) {
      const part = rows.slice(i, i + size);
      const first = part[0].index;
      const lastRow = part[part.length - 1];
      chunks.push(
        new ChunkNode(
          `${this.id}/[${first}]`,
          first,
          lastRow.index + lastRow.runLength - 1,
          nodes.slice(i, i + size),
        ),
      );
    }
    return chunks;
  }

  private rowNode(r: PageTableEntryRow): TreeNode {
    const t = this.spec.location;
    if (!r.present && r.runLength > 1) return new NotPresentRunNode(`${this.id}/${r.index}`, r);
    return new EntryNode(this.ctx, `${this.id}/${r.index}`, t, r);
  }
}

/** Entries `[first–last]` of a table, already fetched with their parent. */
export class ChunkNode extends TreeNode {
  constructor(
    readonly id: string,
    private readonly first: number,
    private readonly last: number,
    private readonly children: TreeNode[],
  ) {
    super();
  }

  getTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(
      `[${this.first}–${this.last}]`,
      vscode.TreeItemCollapsibleState.Collapsed,
    );
    item.id = this.id;
    item.description = `${this.children.length} rows`;
    item.iconPath = new vscode.ThemeIcon('list-flat');
    item.contextValue = 'tableChunk';
    return item;
  }

  override getChildren(): Promise<TreeNode[]> {
    return Promise.resolve(this.children);
  }
}
