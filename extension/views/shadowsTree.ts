/**
 * The Shadows view: for each shadow-paged domain, its shadow page count and, per vCPU, every guest
 * page table reachable from CR3 with its shadow state — shadowed, write-protected, out of sync, and
 * the shadow pages Xen keeps for it (`pagewalk/shadowPair`). Changes since the last stop are marked.
 * HAP and PV domains say why they have none.
 */
import * as vscode from 'vscode';
import type { DomainSummary, ShadowPairResult } from '../../debug-adapter/protocol';
import { hex, parseHex } from '../bits';
import type { PagewalkSessions, StopInfo } from '../debug/pagewalkSessions';
import type { ChangeTracker } from './changeTracker';
import { markChanged } from './changeTracker';
import { StopTreeProvider } from './stopTreeProvider';
import { InfoNode, MessageNode, TreeNode, errorChildren } from './nodes/treeNode';
import { ENTRIES_PER_TABLE, readTableRows } from './pageTableSource';

const NO_SHADOWS: Record<DomainSummary['kind'], string | null> = {
  pv: 'PV: Xen validates the guest tables themselves, no shadows',
  'hvm-hap': 'HAP: the hardware walks guest tables and the p2m, no shadows',
  'hvm-shadow': null,
};

/** Guest tables listed per vCPU at most; a guest with more gets a note, not a slow view. */
const MAX_TABLES = 256;
const LEVEL_NAMES = ['', 'L1', 'L2', 'L3', 'L4'];

export class ShadowsTreeProvider extends StopTreeProvider {
  constructor(sessions: PagewalkSessions) {
    super(sessions, 'shadows');
  }

  protected idleMessage(): string {
    return 'Pause a Pagewalk session to see the shadow tables';
  }

  protected async roots(stop: StopInfo): Promise<TreeNode[]> {
    const { domains } = await this.sessions.request('pagewalk/domains', {}, stop.session);
    return domains.map((d) => new ShadowDomainNode(this.sessions, stop.session, d, this.changes));
  }
}

class ShadowDomainNode extends TreeNode {
  readonly id: string;
  constructor(
    private readonly sessions: PagewalkSessions,
    private readonly session: vscode.DebugSession,
    private readonly domain: DomainSummary,
    private readonly changes: ChangeTracker,
  ) {
    super();
    this.id = `shadows/${domain.name}`;
  }

  getTreeItem(): vscode.TreeItem {
    const d = this.domain;
    const item = new vscode.TreeItem(d.name, vscode.TreeItemCollapsibleState.Expanded);
    item.id = this.id;
    item.description = NO_SHADOWS[d.kind] === null ? `${d.shadowCount} shadow pages` : d.kind;
    item.iconPath = new vscode.ThemeIcon('mirror');
    markChanged(item, this.changes.note(this.id, String(d.shadowCount)));
    return item;
  }

  override getChildren(): Promise<TreeNode[]> {
    const d = this.domain;
    const none = NO_SHADOWS[d.kind];
    if (none !== null) return Promise.resolve([new MessageNode(`${this.id}/none`, none)]);
    const nodes: TreeNode[] = [];
    for (const v of d.vcpus) {
      const id = `${this.id}/vcpu${v.index}`;
      if (v.threadId === null) continue;
      if ((parseHex(v.cr0) & 0x80000000n) === 0n) {
        nodes.push(new MessageNode(id, `vcpu${v.index}: paging is off (CR0.PG = 0), nothing to shadow`));
        continue;
      }
      const root = Number(parseHex(v.cr3) >> 12n) & 0xffffffffff;
      nodes.push(
        new VcpuTablesNode(this.sessions, this.session, id, d.name, v.index, v.threadId, root, this.changes),
      );
    }
    return Promise.resolve(nodes);
  }
}

/** A vCPU's guest tables from its CR3, each with its shadow state, found by walking the tables. */
class VcpuTablesNode extends TreeNode {
  constructor(
    private readonly sessions: PagewalkSessions,
    private readonly session: vscode.DebugSession,
    readonly id: string,
    private readonly domainName: string,
    private readonly vcpu: number,
    private readonly threadId: number,
    private readonly root: number,
    private readonly changes: ChangeTracker,
  ) {
    super();
  }

  getTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(`vcpu${this.vcpu}`, vscode.TreeItemCollapsibleState.Expanded);
    item.id = this.id;
    item.description = `guest tables from CR3 (root gfn ${hex(this.root)})`;
    item.iconPath = new vscode.ThemeIcon('chip');
    return item;
  }

  override async getChildren(): Promise<TreeNode[]> {
    try {
      const tables = await this.guestTables();
      const nodes: TreeNode[] = [];
      for (const t of tables.list) {
        const pair = await this.sessions.request(
          'pagewalk/shadowPair',
          { threadId: this.threadId, gfn: t.gfn },
          this.session,
        );
        nodes.push(new GuestTableNode(`${this.id}/${t.gfn}`, t.level, pair, this.changes));
      }
      if (tables.truncated)
        nodes.push(new MessageNode(`${this.id}/more`, `only the first ${MAX_TABLES} tables are listed`));
      return nodes;
    } catch (e) {
      return errorChildren(this.id, e);
    }
  }

  /** Breadth-first from the root: every table a present non-leaf entry points to, once. */
  private async guestTables(): Promise<{ list: { gfn: number; level: number }[]; truncated: boolean }> {
    const list: { gfn: number; level: number }[] = [];
    const seen = new Set<string>();
    const queue = [{ gfn: this.root, level: 4 }];
    while (queue.length) {
      const t = queue.shift()!;
      const key = `${t.level}:${t.gfn}`;
      if (seen.has(key)) continue; // a recursive or shared table is listed once per level
      if (list.length === MAX_TABLES) return { list, truncated: true };
      seen.add(key);
      list.push(t);
      if (t.level === 1) continue;
      const rows = await readTableRows(
        this.sessions,
        { session: this.session, threadId: this.threadId, domain: this.domainName, kind: 'hvm-shadow', frame: t.gfn, level: t.level, vaBase: 0n }, // prettier-ignore
        0,
        ENTRIES_PER_TABLE,
      );
      for (const r of rows)
        if (r.expandable && r.target !== null) queue.push({ gfn: r.target, level: t.level - 1 });
    }
    return { list, truncated: false };
  }
}

/** One guest table and what Xen keeps for it. */
class GuestTableNode extends TreeNode {
  constructor(
    readonly id: string,
    private readonly level: number,
    private readonly pair: ShadowPairResult,
    private readonly changes: ChangeTracker,
  ) {
    super();
  }

  getTreeItem(): vscode.TreeItem {
    const p = this.pair;
    const state = [
      p.shadowed ? 'shadowed' : 'not shadowed',
      p.writeProtected ? 'write-protected' : 'writable',
      p.outOfSync ? 'OUT OF SYNC' : '',
    ]
      .filter(Boolean)
      .join(' · ');
    const item = new vscode.TreeItem(
      `${LEVEL_NAMES[this.level]} gfn ${hex(p.gfn)}`,
      p.shadows.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    item.id = this.id;
    item.description = state;
    item.iconPath = new vscode.ThemeIcon(
      p.outOfSync ? 'warning' : p.shadowed ? 'mirror' : 'circle-outline',
      p.outOfSync ? new vscode.ThemeColor('list.warningForeground') : undefined,
    );
    item.tooltip = new vscode.MarkdownString(
      `**guest ${LEVEL_NAMES[this.level]} table, gfn ${hex(p.gfn)}**\n\n` +
        `- shadowed: ${p.shadowed}\n- write-protected: ${p.writeProtected}\n- out of sync: ${p.outOfSync}` +
        (p.shadows.length
          ? `\n- shadows: ${p.shadows.map((s) => `${s.type} smfn ${hex(s.mfn)}`).join(', ')}`
          : '') +
        (p.note ? `\n\n${p.note}` : ''),
    );
    item.contextValue = 'guestTable';
    markChanged(item, this.changes.note(this.id, state));
    return item;
  }

  override getChildren(): Promise<TreeNode[]> {
    return Promise.resolve(
      this.pair.shadows.map(
        (s) =>
          new InfoNode(`${this.id}/${s.mfn}`, `shadow ${s.type}`, `smfn ${hex(s.mfn)}`, { icon: 'mirror' }),
      ),
    );
  }
}
