/**
 * The Frames view: the machine's frame table grouped by owner, then by Xen type with counts, then
 * the frames themselves in pages of `pagewalk.frames.pageSize`. Per stop only frames that differ
 * from the initial state or carry a type are fetched (`interestingOnly`), so a machine of millions
 * of frames stays cheap; each domain's whole range is there too, as nested mfn ranges fetched one
 * page at a time when expanded. Every frame expands into who maps it.
 */
import * as vscode from 'vscode';
import type { DomainSummary, FrameRow } from '../../debug-adapter/protocol';
import { hex } from '../bits';
import type { PagewalkSessions, StopInfo } from '../debug/pagewalkSessions';
import type { ChangeTracker } from './changeTracker';
import { markChanged } from './changeTracker';
import { StopTreeProvider } from './stopTreeProvider';
import { MessageNode, TreeNode, errorChildren } from './nodes/treeNode';

const DOMID_XEN = 0x7ff2;
const FETCH_PAGE = 4096;

export class FramesTreeProvider extends StopTreeProvider {
  constructor(sessions: PagewalkSessions) {
    super(sessions, 'frames');
  }

  protected idleMessage(): string {
    return 'Pause a Pagewalk session to see the frame table';
  }

  protected async roots(stop: StopInfo): Promise<TreeNode[]> {
    const [domains, rows] = await Promise.all([
      this.sessions.request('pagewalk/domains', {}, stop.session),
      this.fetchAll(stop.session),
    ]);
    const pageSize = Math.max(10, vscode.workspace.getConfiguration('pagewalk').get<number>('frames.pageSize', 100)); // prettier-ignore
    const ctx: FramesContext = {
      pageSize,
      changes: this.changes,
      whoMaps: (mfn) => whoMaps(stop.session, mfn),
      fetch: async (start, count) =>
        (await this.sessions.request('pagewalk/frameTable', { start, count }, stop.session)).rows,
    };
    const byOwner = new Map<number, FrameRow[]>();
    for (const d of domains.domains) byOwner.set(d.id, []);
    for (const r of rows) byOwner.set(r.owner, [...(byOwner.get(r.owner) ?? []), r]);
    if (byOwner.size === 0) return [new MessageNode('frames/none', 'No frame is typed or referenced yet')];
    return [...byOwner.entries()]
      .sort(([a], [b]) => a - b)
      .map(([owner, list]) => {
        const domain = domains.domains.find((d) => d.id === owner) ?? null;
        return new OwnerNode(ownerName(owner, domains.domains), owner, list, domain, ctx);
      });
  }

  private async fetchAll(session: vscode.DebugSession): Promise<FrameRow[]> {
    const rows: FrameRow[] = [];
    for (let start = 0; ; start += FETCH_PAGE) {
      const page = await this.sessions.request('pagewalk/frameTable', { start, count: FETCH_PAGE, interestingOnly: true }, session); // prettier-ignore
      rows.push(...page.rows);
      if (start + FETCH_PAGE >= page.total) return rows;
    }
  }
}

/**
 * The adapter's `who-maps MFN` console command: every vCPU's leaf mappings of the frame, one line
 * each (`vm.vcpu0: 0x400000 P|RW`). Asked only when a frame is expanded.
 */
export async function whoMaps(session: vscode.DebugSession, mfn: number): Promise<string[]> {
  const r = (await session.customRequest('evaluate', {
    expression: `who-maps ${hex(mfn)}`,
    context: 'repl',
  })) as {
    result: string;
  };
  return r.result.split('\n').filter((l) => l.trim() !== '');
}

function ownerName(owner: number, domains: DomainSummary[]): string {
  if (owner === DOMID_XEN) return 'Xen';
  const d = domains.find((x) => x.id === owner);
  return d ? `${d.name} (d${owner})` : `domain ${owner}`;
}

/** What every node below an owner shares: the page size, the change memory and the two queries. */
interface FramesContext {
  pageSize: number;
  changes: ChangeTracker;
  whoMaps: (mfn: number) => Promise<string[]>;
  /** Rows of frames `start … start+count-1`, whatever their state. */
  fetch: (start: number, count: number) => Promise<FrameRow[]>;
}

class OwnerNode extends TreeNode {
  readonly id: string;
  constructor(
    private readonly name: string,
    owner: number,
    /** The owner's typed or referenced frames. */
    private readonly rows: FrameRow[],
    /** The domain, when the owner is one: its whole frame range is listed too. */
    private readonly domain: DomainSummary | null,
    private readonly ctx: FramesContext,
  ) {
    super();
    this.id = `frames/${owner}`;
  }

  getTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.name, vscode.TreeItemCollapsibleState.Expanded);
    item.id = this.id;
    item.description = this.domain
      ? `${this.domain.frames} frames, ${this.rows.length} typed or referenced`
      : `${this.rows.length} frames`;
    item.iconPath = new vscode.ThemeIcon('account');
    return item;
  }

  override getChildren(): Promise<TreeNode[]> {
    const byType = new Map<string, FrameRow[]>();
    for (const r of this.rows) byType.set(r.type, [...(byType.get(r.type) ?? []), r]);
    const nodes: TreeNode[] = [...byType.entries()].map(
      ([type, list]) => new TypeNode(`${this.id}/${type}`, type, list, this.ctx),
    );
    const d = this.domain;
    if (d && d.frames > 0)
      nodes.push(
        new RangeNode(`${this.id}/all`, 'all frames', d.firstMfn, d.firstMfn + d.frames - 1, this.ctx),
      );
    return Promise.resolve(nodes);
  }
}

/**
 * Frames `first … last` of the machine. A range longer than a page splits into at most `pageSize`
 * sub-ranges, so even a million frames are a few clicks deep; a page-sized range fetches its rows.
 */
export class RangeNode extends TreeNode {
  constructor(
    readonly id: string,
    private readonly label: string,
    readonly first: number,
    readonly last: number,
    private readonly ctx: FramesContext,
  ) {
    super();
  }

  getTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.label, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = this.id;
    item.description = `mfn ${hex(this.first)}–${hex(this.last)} (${this.last - this.first + 1})`;
    item.iconPath = new vscode.ThemeIcon('list-flat');
    item.contextValue = 'frameRange';
    return item;
  }

  override async getChildren(): Promise<TreeNode[]> {
    const { pageSize } = this.ctx;
    const count = this.last - this.first + 1;
    if (count <= pageSize) {
      try {
        return (await this.ctx.fetch(this.first, count)).map((r) => new FrameNode(this.id, r, this.ctx));
      } catch (e) {
        return errorChildren(this.id, e);
      }
    }
    // The smallest power of pageSize that covers `count` in at most pageSize pieces.
    let span = pageSize;
    while (span * pageSize < count) span *= pageSize;
    const nodes: TreeNode[] = [];
    for (let first = this.first; first <= this.last; first += span) {
      const last = Math.min(this.last, first + span - 1);
      nodes.push(new RangeNode(`${this.id}/${first}`, `[${hex(first)}…]`, first, last, this.ctx));
    }
    return nodes;
  }
}

/** The frames of one type, `pageSize` at a time; the rest hang under a `TYPE [offset…]` node. */
class TypeNode extends TreeNode {
  constructor(
    readonly id: string,
    private readonly type: string,
    private readonly rows: FrameRow[],
    private readonly ctx: FramesContext,
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
    const { pageSize } = this.ctx;
    const nodes: TreeNode[] = this.rows
      .slice(this.offset, this.offset + pageSize)
      .map((r) => new FrameNode(this.id, r, this.ctx));
    if (this.offset + pageSize < this.rows.length)
      nodes.push(new TypeNode(`${this.id}/+${this.offset + pageSize}`, this.type, this.rows, this.ctx, this.offset + pageSize)); // prettier-ignore
    return Promise.resolve(nodes);
  }
}

/** One frame: its counts in the description, expandable into who maps it. */
export class FrameNode extends TreeNode {
  readonly id: string;
  constructor(
    parentId: string,
    readonly frame: FrameRow,
    private readonly ctx: FramesContext,
  ) {
    super();
    // A frame can show twice (under its type and in its domain's range); tree ids must not repeat.
    this.id = `${parentId}/mfn${frame.mfn}`;
  }

  getTreeItem(): vscode.TreeItem {
    const f = this.frame;
    const item = new vscode.TreeItem(`mfn ${hex(f.mfn)}`, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = this.id;
    const counts = `type ${f.type} ×${f.typeCount}, refs ${f.refCount}`;
    item.description = `${f.pfn === null ? '' : `pfn ${hex(f.pfn)} · `}${counts}${f.pinned ? ' · pinned' : ''}${f.validated ? ' · validated' : ''}`; // prettier-ignore
    item.tooltip = new vscode.MarkdownString(
      `**mfn ${hex(f.mfn)}** owner ${f.owner}\n\n| field | value |\n|---|---|\n| pfn | ${f.pfn === null ? '—' : hex(f.pfn)} |\n| type | ${f.type} |\n| type count | ${f.typeCount} |\n| ref count | ${f.refCount} |\n| validated | ${f.validated} |\n| pinned | ${f.pinned} |\n| m2p | ${f.m2p} |\n\nExpand to see who maps it.`, // prettier-ignore
    );
    item.iconPath = new vscode.ThemeIcon(f.pinned ? 'pinned' : 'symbol-field');
    item.contextValue = 'frame';
    markChanged(item, this.ctx.changes.note(`frame/${f.mfn}`, counts));
    return item;
  }

  override async getChildren(): Promise<TreeNode[]> {
    try {
      const lines = await this.ctx.whoMaps(this.frame.mfn);
      return lines.map((line, i) => new MessageNode(`${this.id}/maps/${i}`, line, 'references'));
    } catch (e) {
      return errorChildren(`${this.id}/maps`, e);
    }
  }
}
