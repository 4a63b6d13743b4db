/**
 * The Domains view: domain → kind/memory/vCPUs → control registers (decoded) → the page-table
 * hierarchy from CR3, fetched lazily. The whole tree is rebuilt from one `pagewalk/domains` answer per
 * stop; the change tracker marks what differs from the previous stop.
 */
import * as vscode from 'vscode';
import type { PagewalkSessions } from '../debug/pagewalkSessions';
import { ChangeTracker } from './changeTracker';
import { DomainNode } from './nodes/domainNode';
import type { TreeContext } from './nodes/treeContext';
import type { TreeNode } from './nodes/treeNode';
import { MessageNode, errorChildren } from './nodes/treeNode';

export class DomainsTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly changes = new ChangeTracker();
  private readonly subscription: vscode.Disposable;

  constructor(private readonly sessions: PagewalkSessions) {
    this.subscription = sessions.onDidChangeState((stop) => {
      if (stop) this.changes.beginStop(stop.step);
      this.refresh();
    });
  }

  refresh(): void {
    this.changeEmitter.fire(undefined);
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    return node.getTreeItem();
  }

  async resolveTreeItem(item: vscode.TreeItem, node: TreeNode): Promise<vscode.TreeItem> {
    const tooltip = await node.resolveTooltip();
    if (tooltip) item.tooltip = tooltip;
    return item;
  }

  async getChildren(node?: TreeNode): Promise<TreeNode[]> {
    if (node) return node.getChildren();
    const stop = this.sessions.stop;
    if (!stop) {
      return [
        new MessageNode(
          'domains/idle',
          this.sessions.session
            ? 'Running — pause to inspect the domains'
            : 'Start debugging a .guest file (F5)',
        ),
      ];
    }
    try {
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
    } catch (e) {
      return errorChildren('domains', e);
    }
  }

  getParent(): undefined {
    return undefined;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changeEmitter.dispose();
  }
}
