/**
 * The Domains view: domain → kind/memory/vCPUs → control registers (decoded) → the page-table
 * hierarchy from CR3, fetched lazily. The whole tree is rebuilt from one `pagewalk/domains` answer per
 * stop; the change tracker marks what differs from the previous stop.
 */
import * as vscode from 'vscode';
import type { PagewalkSessions, StopInfo } from '../debug/pagewalkSessions';
import { DomainNode } from './nodes/domainNode';
import type { TreeContext } from './nodes/treeContext';
import type { TreeNode } from './nodes/treeNode';
import { MessageNode } from './nodes/treeNode';
import { StopTreeProvider } from './stopTreeProvider';

export class DomainsTreeProvider extends StopTreeProvider {
  constructor(sessions: PagewalkSessions) {
    super(sessions, 'domains');
  }

  async resolveTreeItem(item: vscode.TreeItem, node: TreeNode): Promise<vscode.TreeItem> {
    const tooltip = await node.resolveTooltip();
    if (tooltip) item.tooltip = tooltip;
    return item;
  }

  getParent(): undefined {
    return undefined;
  }

  protected idleMessage(): string {
    return this.sessions.session
      ? 'Running — pause to inspect the domains'
      : 'Start debugging a .guest file (F5)';
  }

  protected async roots(stop: StopInfo): Promise<TreeNode[]> {
    const result = await this.sessions.request('pagewalk/domains', {}, stop.session);
    const ctx: TreeContext = {
      sessions: this.sessions,
      session: stop.session,
      changes: this.changes,
      chunkSize: vscode.workspace.getConfiguration('pagewalk').get<number>('tree.chunkSize', 64),
    };
    if (result.domains.length === 0)
      return [new MessageNode('domains/none', 'The program declares no domain')];
    return result.domains.map((d) => new DomainNode(ctx, d));
  }
}
