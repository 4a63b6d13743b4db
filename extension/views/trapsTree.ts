/**
 * The Traps view: the engine's event log, newest first, limited to the trap-like classes by default
 * and filterable by class. A click opens the statement that caused the event; the context menu
 * travels back in time to it.
 */
import * as vscode from 'vscode';
import type { EventsResult } from '../../debug-adapter/protocol';
import type { PagewalkSessions, StopInfo } from '../debug/pagewalkSessions';
import { MessageNode, TreeNode } from './nodes/treeNode';
import { StopTreeProvider } from './stopTreeProvider';

export const TRAP_EVENT_CLASSES = [
  'fault', 'npf', 'ptwr', 'fixup', 'propagate', 'emulate', 'resync', 'unshadow', 'invlpg', 'mmio',
  'hypercall', 'hypercall_result', 'refusal', 'cr_write', 'entry_update', 'expect_failed',
]; // prettier-ignore

type LoggedEvent = EventsResult['events'][number];

const ICONS: Record<string, string> = {
  fault: 'error',
  npf: 'error',
  cr_write: 'symbol-constant',
  hypercall: 'call-outgoing',
  hypercall_result: 'call-incoming',
  expect_failed: 'testing-failed-icon',
  entry_update: 'edit',
};

export class TrapsTreeProvider extends StopTreeProvider {
  /** The classes shown; null = the trap-like default set. */
  classes: string[] | null = null;

  constructor(sessions: PagewalkSessions) {
    super(sessions, 'traps');
  }

  setFilter(classes: string[] | null): void {
    this.classes = classes;
    this.refresh();
  }

  protected idleMessage(): string {
    return 'Pause a Pagewalk session to see its event log';
  }

  protected async roots(stop: StopInfo): Promise<TreeNode[]> {
    const limit = vscode.workspace.getConfiguration('pagewalk').get<number>('traps.limit', 200);
    const classes = this.classes ?? TRAP_EVENT_CLASSES;
    const head = await this.sessions.request(
      'pagewalk/events',
      { start: 0, count: 0, classes },
      stop.session,
    );
    const start = Math.max(0, head.total - limit);
    const page = await this.sessions.request(
      'pagewalk/events',
      { start, count: limit, classes },
      stop.session,
    );
    if (page.events.length === 0) return [new MessageNode('traps/none', 'No traps yet')];
    const program = String(stop.session.configuration.program ?? '');
    return [...page.events].reverse().map((e) => new EventNode(e, program));
  }
}

/** One logged event. Its fields beyond the common ones become the description. */
export class EventNode extends TreeNode {
  readonly id: string;

  constructor(
    readonly event: LoggedEvent,
    private readonly program: string,
  ) {
    super();
    this.id = `event/${event.index}`;
  }

  get step(): number {
    return Number(this.event.step);
  }

  get line(): number {
    return Number(this.event.line);
  }

  getTreeItem(): vscode.TreeItem {
    const e = this.event;
    const cls = String(e.class);
    const item = new vscode.TreeItem(`${cls}`, vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.description = `step ${e.step} · ${e.domain}.vcpu${e.vcpu} · line ${e.line} · ${fieldsText(e)}`;
    item.iconPath = new vscode.ThemeIcon(ICONS[cls] ?? 'debug-breakpoint-log');
    const explanation = typeof e.explanation === 'string' ? `\n\n${e.explanation}` : '';
    item.tooltip = new vscode.MarkdownString(`**${cls}** at step ${e.step}, line ${e.line}${explanation}\n\n\`\`\`json\n${JSON.stringify(e, null, 1)}\n\`\`\``); // prettier-ignore
    item.contextValue = 'event';
    if (this.program) {
      const line = Math.max(0, this.line - 1);
      item.command = {
        command: 'vscode.open',
        title: 'Go to source',
        arguments: [
          vscode.Uri.file(this.program),
          { selection: new vscode.Range(line, 0, line, 0), preview: true },
        ],
      };
    }
    return item;
  }
}

function fieldsText(e: LoggedEvent): string {
  const skip = new Set(['index', 'step', 'domain', 'vcpu', 'line', 'class', 'explanation']);
  return Object.entries(e)
    .filter(([k]) => !skip.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}
