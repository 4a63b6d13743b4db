/**
 * A vCPU: its mode, control registers (decoded), the last fault and hypercall result, and the page
 * tables reached from CR3. The DAP thread id is what every per-vCPU custom request takes.
 */
import * as vscode from 'vscode';
import type { DomainSummary, VcpuSummary } from '../../../debug-adapter/protocol';
import { CR0_FIELDS, CR3_FIELDS, CR4_FIELDS, hex, parseHex } from '../../bits';
import { PageTableNode } from './pageTableNode';
import { RegisterNode } from './registerNode';
import type { TreeContext } from './treeContext';
import { InfoNode, MessageNode, TreeNode } from './treeNode';

export class VcpuNode extends TreeNode {
  readonly id: string;

  constructor(
    private readonly ctx: TreeContext,
    private readonly domain: DomainSummary,
    readonly vcpu: VcpuSummary,
  ) {
    super();
    this.id = `domain/${domain.name}/vcpu${vcpu.index}`;
  }

  getTreeItem(): vscode.TreeItem {
    const v = this.vcpu;
    const item = new vscode.TreeItem(`vcpu${v.index}`, vscode.TreeItemCollapsibleState.Expanded);
    item.id = this.id;
    item.description = `${v.mode} · CR3 ${v.cr3}${v.halted ? ' · halted' : ''}`;
    item.iconPath = new vscode.ThemeIcon(v.halted ? 'debug-stop' : 'chip');
    item.contextValue = 'vcpu';
    return item;
  }

  override getChildren(): Promise<TreeNode[]> {
    const v = this.vcpu;
    const c = this.ctx.changes;
    const reg = (name: string, value: string, fields: typeof CR0_FIELDS) =>
      new RegisterNode(
        `${this.id}/${name}`,
        name,
        value,
        fields,
        c.note(`${this.id}/${name}`, value),
        v.threadId,
      );
    const nodes: TreeNode[] = [
      new InfoNode(`${this.id}/mode`, 'mode', v.mode, {
        icon: 'person',
        changed: c.note(`${this.id}/mode`, v.mode),
      }),
      reg('CR0', v.cr0, CR0_FIELDS),
      reg('CR3', v.cr3, CR3_FIELDS),
      reg('CR4', v.cr4, CR4_FIELDS),
    ];
    const fault = parseHex(v.fault);
    const faultText = fault === 0n ? 'none' : `${fault === 14n ? '#PF' : fault === 13n ? '#GP' : `vector ${fault}`} at ${v.faultAddr}, code ${v.faultCode}`; // prettier-ignore
    nodes.push(
      new InfoNode(`${this.id}/fault`, 'last fault', faultText, {
        icon: fault === 0n ? 'pass' : 'warning',
        changed: c.note(`${this.id}/fault`, faultText),
      }),
      new InfoNode(`${this.id}/rc`, 'rc', v.rc, {
        icon: 'symbol-number',
        changed: c.note(`${this.id}/rc`, v.rc),
      }),
    );
    nodes.push(this.pageTables());
    return Promise.resolve(nodes);
  }

  private pageTables(): TreeNode {
    const v = this.vcpu;
    const cr0 = parseHex(v.cr0);
    if (v.threadId === null)
      return new MessageNode(`${this.id}/tables`, 'page tables: no vcpu block runs this vCPU');
    if ((cr0 & 0x80000000n) === 0n && this.domain.kind !== 'pv')
      return new MessageNode(`${this.id}/tables`, 'page tables: paging is off (CR0.PG = 0)', 'circle-slash');
    const root = Number(parseHex(v.cr3) >> 12n) & 0xffffffffff;
    return new PageTableNode(this.ctx, {
      id: `${this.id}/tables`,
      label: 'Page tables',
      location: {
        session: this.ctx.session,
        threadId: v.threadId,
        domain: this.domain.name,
        kind: this.domain.kind,
        frame: root,
        level: 4,
        vaBase: 0n,
      },
      description: `L4 at frame ${hex(root)}`,
    });
  }
}
