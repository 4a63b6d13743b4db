/**
 * The timeline: traps, hypercalls and CR writes as marks on per-class lanes over the steps run so
 * far; clicking a mark travels back to its step.
 */
import type * as vscode from 'vscode';
import type { FromWebviewMessage, TimelineEvent } from '../../webview/protocol';
import { timelineLane } from '../../webview/protocol';
import { travelToStep } from '../debug/timeTravel';
import type { PagewalkSessions, StopInfo } from '../debug/pagewalkSessions';
import { WebviewPanelHost } from './webviewPanel';

const SKIP = new Set(['index', 'step', 'domain', 'vcpu', 'line', 'class', 'explanation']);

export class TimelinePanel extends WebviewPanelHost {
  constructor(extensionUri: vscode.Uri, sessions: PagewalkSessions) {
    super(extensionUri, sessions, 'timeline', 'Timeline');
  }

  protected async onStateChanged(stop: StopInfo | null): Promise<void> {
    if (!stop) return;
    const { events } = await this.sessions.request(
      'pagewalk/events',
      { start: 0, count: 10_000 },
      stop.session,
    );
    const marks: TimelineEvent[] = events
      .filter((e) => timelineLane(String(e.class)) !== null)
      .map((e) => ({
        step: Number(e.step),
        domain: String(e.domain),
        vcpu: Number(e.vcpu),
        line: Number(e.line),
        class: String(e.class),
        label: `${String(e.class)} ${Object.entries(e).filter(([k]) => !SKIP.has(k)).slice(0, 3).map(([, v]) => String(v)).join(' ')}`.trim(), // prettier-ignore
        ...(typeof e.explanation === 'string' ? { explanation: e.explanation } : {}),
      }));
    const step = stop.step ?? 0;
    this.post({ type: 'timeline', totalSteps: step, currentStep: step, events: marks });
  }

  protected async onMessage(m: Exclude<FromWebviewMessage, { type: 'ready' }>): Promise<void> {
    if (m.type === 'travelToStep') await travelToStep(this.sessions, m.step);
  }
}
