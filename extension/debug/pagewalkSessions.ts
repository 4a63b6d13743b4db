/**
 * The one place the extension learns about Pagewalk debug sessions. A debug adapter tracker watches
 * the DAP traffic for `stopped`, `continued` and the adapter's `pagewalk/stateChanged` event, so every
 * view refreshes from the same signal and never polls. Views fetch through `request`, which is typed by
 * the adapter's protocol and so can only ask for what the adapter documents.
 */
import * as vscode from 'vscode';
import type { PagewalkCommand, PagewalkRequests, StateChangedEventBody } from '../../debug-adapter/protocol';

export const DEBUG_TYPE = 'pagewalk';

export interface StopInfo {
  session: vscode.DebugSession;
  /** The DAP thread id that stopped (the vCPU), or 1. */
  threadId: number;
  reason: string;
  /** The engine step of the stop, once `pagewalk/stateChanged` told it. */
  step: number | null;
}

export class PagewalkSessions implements vscode.Disposable {
  private readonly stopEmitter = new vscode.EventEmitter<StopInfo | null>();
  /** Fires after every stop (with the stop) and when the program runs or ends (with null). */
  readonly onDidChangeState = this.stopEmitter.event;
  private current: StopInfo | null = null;
  private readonly disposables: vscode.Disposable[] = [];

  constructor() {
    this.disposables.push(
      this.stopEmitter,
      vscode.debug.registerDebugAdapterTrackerFactory(DEBUG_TYPE, {
        createDebugAdapterTracker: (session) => ({
          onDidSendMessage: (message: { type?: string; event?: string; body?: unknown }) =>
            this.onMessage(session, message),
        }),
      }),
      vscode.debug.onDidTerminateDebugSession((session) => {
        if (this.current?.session.id === session.id) this.update(null);
      }),
    );
  }

  /** The stopped Pagewalk session, or null when none is paused. */
  get stop(): StopInfo | null {
    return this.current;
  }

  /**
   * The paused Pagewalk session, else the one VS Code has active. The paused one first: right after
   * a session ends and another starts, `activeDebugSession` can still name the ended one.
   */
  get session(): vscode.DebugSession | undefined {
    if (this.current) return this.current.session;
    const active = vscode.debug.activeDebugSession;
    return active?.type === DEBUG_TYPE ? active : undefined;
  }

  async request<C extends PagewalkCommand>(
    command: C,
    args: PagewalkRequests[C]['args'],
    session = this.session,
  ): Promise<PagewalkRequests[C]['result']> {
    if (!session) throw new Error('No Pagewalk debug session is running.');
    return (await session.customRequest(command, args)) as PagewalkRequests[C]['result'];
  }

  private onMessage(
    session: vscode.DebugSession,
    m: { type?: string; event?: string; body?: unknown },
  ): void {
    if (m.type !== 'event') return;
    if (m.event === 'stopped') {
      const body = (m.body ?? {}) as { threadId?: number; reason?: string };
      // The stateChanged event follows at once with the step; publish then, so views see one refresh.
      this.current = { session, threadId: body.threadId ?? 1, reason: body.reason ?? 'pause', step: null };
    } else if (m.event === 'pagewalk/stateChanged') {
      const body = m.body as StateChangedEventBody;
      const base = this.current?.session.id === session.id ? this.current : null;
      this.update({ session, threadId: base?.threadId ?? 1, reason: body.reason, step: body.step });
    } else if (m.event === 'continued') {
      this.update(null);
    } else if (m.event === 'terminated' || m.event === 'exited') {
      if (this.current?.session.id === session.id) this.update(null);
    }
  }

  private update(stop: StopInfo | null): void {
    this.current = stop;
    this.stopEmitter.fire(stop);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
