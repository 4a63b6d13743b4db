/**
 * The Frames view: the machine's frame table grouped by owner, then by Xen type with counts, then
 * the frames themselves in pages of `pagewalk.frames.pageSize`. Only frames that differ from the
 * initial state or carry a type are fetched (`interestingOnly`), so a 256 MiB machine stays cheap.
 */
import * as vscode from 'vscode';
import type { DomainSummary, FrameRow } from '../../debug-adapter/protocol';
import { hex } from '../bits';
import type { PagewalkSessions } from '../debug/pagewalkSessions';
import { ChangeTracker, markChanged } from './changeTracker';
import { MessageNode, TreeNode, errorChildren } from './nodes/treeNode';

const DOMID_XEN = 0x7ff2;
const FETCH_PAGE = 4096;

export class FramesTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly changes = new ChangeTracker();
  private readonly subscription: vscode.Disposable;

  constructor(private readonly sessions: PagewalkSessions) {
    this.subscription = sessions.onDidChangeState((stop) => {
      if (stop) this.changes.beginStop(stop.step);
      this.changeEmitter.fire(undefined);
    });
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    return node.getTreeItem();
  }

  async getChildren(node?: TreeNode): Promise<TreeNode[]> {
    if (node) return node.getChildren();
    const stop = this.sessions.stop;
    if (!stop) return [new MessageNode('frames/idle', 'Pause a Pagewalk session to see the frame table')];
    try {
      const [domains, rows] = await Promise.all([
        this.sessions.request('pagewalk/domains', {}, stop.session),
        this.fetchAll(stop.session),
      ]);
      const pageSize = vscode.workspace.getConfiguration('pagewalk').get<number>('frames.pageSize', 100);
      const byOwner = new Map<number, FrameRow[]>();
      for (const r of rows) byOwner.set(r.owner, [...(byOwner.get(r.owner) ?? []), r]);
      if (byOwner.size === 0) return [new MessageNode('frames/none', 'No frame is typed or referenced yet')];
      return [...byOwner.entries()]
        .sort(([a], [b]) => a - b)
        .map(
          ([owner, list]) =>
            new OwnerNode(ownerName(owner, domains.domains), owner, list, pageSize, this.changes),
        );
    } catch (e) {
      return errorChildren('frames', e);
    }
  }

  private async fetchAll(session: vscode.DebugSession): Promise<FrameRow[]> {
    const rows: FrameRow[] = [];
    for (let start = 0; ; start += FETCH_PAGE) {
      const page = await this.sessions.request('pagewalk/frameTable', { start, count: FETCH_PAGE, interestingOnly: true }, session); // prettier-ignore
      rows.push(...page.rows);
      if (start + FETCH_PAGE >= page.total) return rows;
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.changeEmitter.dispose();
  }
}

function ownerName(owner: number, domains: DomainSummary[]): string {
  if (owner === DOMID_XEN) return 'Xen';
  const d = domains.find((x) => x.id === owner);
  return d ? `${d.name} (d${owner})` : `domain ${owner}`;
}

class OwnerNode extends TreeNode {
  readonly id: string;
  constructor(
    private readonly name: string,
    owner: number,
    private readonly rows: FrameRow[],
    private readonly pageSize: number,
    private readonly changes: ChangeTracker,
  ) {
    super();
    this.id = `frames/${owner}`;
  }

  getTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.name, vscode.TreeItemCollapsibleState.Expanded);
    item.id = this.id;
    item.description = `${this.rows.length} frames`;
    item.iconPath = new vscode.ThemeIcon('account');
    return item;
  }

  override getChildren(): Promise<TreeNode[]> {
    const byType = new Map<string, FrameRow[]>();
    for (const r of this.rows) byType.set(r.type, [...(byType.get(r.type) ?? []), r]);
    return Promise.resolve(
      [...byType.entries()].map(
        ([type, list]) => new TypeNode(`${this.id}/${type}`, type, list, this.pageSize, this.changes),
      ),
    );
  }
}

class TypeNode extends TreeNode {
  constructor(
    readonly id: string,
    private readonly type: string,
    private readonly rows: FrameRow[],
    private readonly pageSize: number,
    private readonly changes: ChangeTracker,
    private readonly offset = 0,
  ) {
    super();
  }

  getTreeItem(): vscode.TreeItem {
    const label = this.offset === 0 ? this.type : `${this.type} [${this.offset}…]`;
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = this.id;
    item.description = this.offset === 0 ? `${this.rows.length}` : `${this.rows.length - this.offset} more`;
    item.iconPath = new vscode.ThemeIcon(this.type.startsWith('L') ? 'type-hierarchy' : 'file-binary');
    return item;
  }

  override getChildren(): Promise<TreeNode[]> {
    const page = this.rows
      .slice(this.offset, this.offset + this.pageSize)
      .map((r) => new FrameNode(r, this.changes));
    const nodes: TreeNode[] = page;
    if (this.offset + this.pageSize < this.rows.length)
      nodes.push(new TypeNode(`${this.id}/+${this.offset + this.pageSize}`, this.type, this.rows, this.pageSize, this.changes, this.offset + this.pageSize)); // prettier-ignore
    return Promise.resolve(nodes);
  }
}

export class FrameNode extends TreeNode {
  readonly id: string;
  constructor(
    readonly frame: FrameRow,
    private readonly changes: ChangeTracker,
  ) {
    super();
    this.id = `frame/${frame.mfn}`;
  }

  getTreeItem(): vscode.TreeItem {
    const f = this.frame;
    const item = new vscode.TreeItem(`mfn ${hex(f.mfn)}`, vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    const counts = `type ${f.type} ×${f.typeCount}, refs ${f.refCount}`;
    item.description = `${f.pfn === null ? '' : `pfn ${hex(f.pfn)} · `}${counts}${f.pinned ? ' · pinned' : ''}${f.validated ? ' · validated' : ''}`; // prettier-ignore
    item.tooltip = new vscode.MarkdownString(
      `**mfn ${hex(f.mfn)}** owner ${f.owner}\n\n| field | value |\n|---|---|\n| pfn | ${f.pfn === null ? '—' : hex(f.pfn)} |\n| type | ${f.type} |\n| type count | ${f.typeCount} |\n| ref count | ${f.refCount} |\n| validated | ${f.validated} |\n| pinned | ${f.pinned} |\n| m2p | ${f.m2p} |`, // prettier-ignore
    );
    item.iconPath = new vscode.ThemeIcon(f.pinned ? 'pinned' : 'symbol-field');
    item.contextValue = 'frame';
    item.command = { command: 'pagewalk.showFrame', title: 'Show Frame', arguments: [f.mfn] };
    markChanged(item, this.changes.note(this.id, counts));
    return item;
  }
}
