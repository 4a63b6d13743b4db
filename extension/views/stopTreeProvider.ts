/**
 * What the Domains, Frames, Shadows and Traps views share: a tree of the paused machine, rebuilt
 * from the adapter on every stop (the change tracker then marks what differs from the previous
 * stop), a message while nothing is paused, and a Refresh. Each view only says how its roots are
 * built from a stop.
 */
import * as vscode from 'vscode';
import type { PagewalkSessions, StopInfo } from '../debug/pagewalkSessions';
import { ChangeTracker } from './changeTracker';
import { MessageNode, errorChildren } from './nodes/treeNode';
import type { TreeNode } from './nodes/treeNode';

export abstract class StopTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  protected readonly changes = new ChangeTracker();
  private readonly subscription: vscode.Disposable;

  /** `view` names the view in node ids and error nodes (`frames`, `traps` …). */
  constructor(
    protected readonly sessions: PagewalkSessions,
    private readonly view: string,
  ) {
    this.subscription = sessions.onDidChangeState((stop) => {
      if (stop) this.changes.beginStop(stop.step);
      this.refresh();
    });
  }

  /** Asks VS Code for the whole tree again (every stop, and the Refresh Views command). */
  refresh(): void {
    this.changeEmitter.fire(undefined);
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    return node.getTreeItem();
  }

  async getChildren(node?: TreeNode): Promise<TreeNode[]> {
    if (node) return node.getChildren();
    const stop = this.sessions.stop;
    if (!stop) return [new MessageNode(`${this.view}/idle`, this.idleMessage())];
    try {
      return await this.roots(stop);
    } catch (e) {
      return errorChildren(this.view, e);
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.changeEmitter.dispose();
  }

  /** What the view says while no Pagewalk session is paused. */
  protected abstract idleMessage(): string;

  /** The top-level nodes at a stop; a failed request becomes an error node. */
  protected abstract roots(stop: StopInfo): Promise<TreeNode[]>;
}
