/**
 * A domain of the machine: kind, memory and frame range, shadow count, crash state, then one node
 * per vCPU. Built from one `pagewalk/domains` answer per stop.
 */
import * as vscode from 'vscode';
import type { DomainSummary } from '../../../debug-adapter/protocol';
import { formatSize, parseHex } from '../../bits';
import type { TreeContext } from './treeContext';
import { InfoNode, TreeNode } from './treeNode';
import { VcpuNode } from './vcpuNode';

const KIND_LABEL: Record<DomainSummary['kind'], string> = {
  pv: 'PV (Xen validates the tables)',
  'hvm-shadow': 'HVM, shadow paging',
  'hvm-hap': 'HVM, hardware-assisted paging',
};

export class DomainNode extends TreeNode {
  readonly id: string;

  constructor(
    private readonly ctx: TreeContext,
    readonly domain: DomainSummary,
  ) {
    super();
    this.id = `domain/${domain.name}`;
  }

  getTreeItem(): vscode.TreeItem {
    const d = this.domain;
    const item = new vscode.TreeItem(d.name, vscode.TreeItemCollapsibleState.Expanded);
    item.id = this.id;
    item.description = `d${d.id} · ${d.kind}${d.crashed ? ' · CRASHED' : ''}`;
    item.iconPath = new vscode.ThemeIcon(
      d.crashed ? 'error' : 'server-process',
      d.crashed ? new vscode.ThemeColor('errorForeground') : undefined,
    );
    item.tooltip = new vscode.MarkdownString(
      `**${d.name}** (domain ${d.id}, ${KIND_LABEL[d.kind]})\n\n` +
        `memory ${formatSize(parseHex(d.memory))}, machine frames ${d.firstMfn}–${d.firstMfn + d.frames - 1}` +
        (d.crashed ? `\n\ncrashed: ${d.crashed}` : ''),
    );
    item.contextValue = 'domain';
    return item;
  }

  override getChildren(): Promise<TreeNode[]> {
    const d = this.domain;
    const c = this.ctx.changes;
    const nodes: TreeNode[] = [
      new InfoNode(`${this.id}/kind`, 'kind', KIND_LABEL[d.kind], { icon: 'symbol-enum' }),
      new InfoNode(
        `${this.id}/memory`,
        'memory',
        `${formatSize(parseHex(d.memory))} · ${d.frames} frames from mfn ${d.firstMfn}`,
        {
          icon: 'database',
        },
      ),
    ];
    if (d.kind !== 'pv') {
      const shadows = String(d.shadowCount);
      nodes.push(
        new InfoNode(`${this.id}/shadows`, 'shadow pages', shadows, {
          icon: 'mirror',
          changed: c.note(`${this.id}/shadows`, shadows),
        }),
      );
    }
    if (d.crashed) nodes.push(new InfoNode(`${this.id}/crashed`, 'crashed', d.crashed, { icon: 'error' }));
    for (const v of d.vcpus) nodes.push(new VcpuNode(this.ctx, d, v));
    return Promise.resolve(nodes);
  }
}
