/**
 * The Shadows view: for each shadow-paged domain, its shadow page count and, per vCPU, the guest
 * root table (CR3) with its shadow pair — shadowed, write-protected, out of sync, and the shadow
 * pages Xen keeps for it (`pagewalk/shadowPair`). HAP and PV domains say why they have none.
 */
import * as vscode from 'vscode';
import type { DomainSummary } from '../../debug-adapter/protocol';
import { hex, parseHex } from '../bits';
import type { PagewalkSessions } from '../debug/pagewalkSessions';
import { InfoNode, MessageNode, TreeNode, errorChildren } from './nodes/treeNode';

const NO_SHADOWS: Record<DomainSummary['kind'], string | null> = {
  pv: 'PV: Xen validates the guest tables themselves, no shadows',
  'hvm-hap': 'HAP: the hardware walks guest tables and the p2m, no shadows',
  'hvm-shadow': null,
};

export class ShadowsTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly sessions: PagewalkSessions) {
    this.subscription = sessions.onDidChangeState(() => this.changeEmitter.fire(undefined));
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    return node.getTreeItem();
  }

  async getChildren(node?: TreeNode): Promise<TreeNode[]> {
    if (node) return node.getChildren();
    const stop = this.sessions.stop;
    if (!stop) return [new MessageNode('shadows/idle', 'Pause a Pagewalk session to see the shadow tables')];
    try {
      const { domains } = await this.sessions.request('pagewalk/domains', {}, stop.session);
      return domains.map((d) => new ShadowDomainNode(this.sessions, stop.session, d));
    } catch (e) {
      return errorChildren('shadows', e);
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.changeEmitter.dispose();
  }
}

class ShadowDomainNode extends TreeNode {
  readonly id: string;
  constructor(
    private readonly sessions: PagewalkSessions,
    private readonly session: vscode.DebugSession,
    private readonly domain: DomainSummary,
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
    return item;
  }

  override async getChildren(): Promise<TreeNode[]> {
    const d = this.domain;
    const none = NO_SHADOWS[d.kind];
    if (none !== null) return [new MessageNode(`${this.id}/none`, none)];
    const nodes: TreeNode[] = [];
    for (const v of d.vcpus) {
      const gfn = Number(parseHex(v.cr3) >> 12n);
      const id = `${this.id}/vcpu${v.index}`;
      if (v.threadId === null) continue;
      try {
        const pair = await this.sessions.request(
          'pagewalk/shadowPair',
          { threadId: v.threadId, gfn },
          this.session,
        );
        const state =
          [pair.shadowed ? 'shadowed' : 'not shadowed', pair.writeProtected ? 'write-protected' : '', pair.outOfSync ? 'OUT OF SYNC' : ''] // prettier-ignore
            .filter(Boolean)
            .join(' · ');
        nodes.push(
          new InfoNode(id, `vcpu${v.index} root gfn ${hex(gfn)}`, state, { icon: 'type-hierarchy' }),
        );
        for (const s of pair.shadows)
          nodes.push(
            new InfoNode(`${id}/${s.mfn}`, `  shadow ${s.type}`, `smfn ${hex(s.mfn)}`, { icon: 'mirror' }),
          );
        if (pair.note) nodes.push(new MessageNode(`${id}/note`, pair.note));
      } catch (e) {
        nodes.push(new InfoNode(id, `vcpu${v.index} root gfn ${hex(gfn)}`, `(${(e as Error).message})`, { icon: 'type-hierarchy' })); // prettier-ignore
      }
    }
    return nodes;
  }
}
