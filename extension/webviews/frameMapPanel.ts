/**
 * The frame map: every machine frame as a cell coloured by type or owner. The webview asks only
 * for the rows it shows; they cross as typed arrays (`FramesMessage`).
 */
import * as vscode from 'vscode';
import type { FromWebviewMessage } from '../../webview/protocol';
import { FRAME_PINNED, FRAME_TYPE_CODES, FRAME_VALIDATED } from '../../webview/protocol';
import type { PagewalkSessions, StopInfo } from '../debug/pagewalkSessions';
import { WebviewPanelHost } from './webviewPanel';

export class FrameMapPanel extends WebviewPanelHost {
  constructor(extensionUri: vscode.Uri, sessions: PagewalkSessions) {
    super(extensionUri, sessions, 'frameMap', 'Frame Map');
  }

  protected async onStateChanged(stop: StopInfo | null): Promise<void> {
    if (!stop) return;
    const [{ domains }, head] = await Promise.all([
      this.sessions.request('pagewalk/domains', {}, stop.session),
      this.sessions.request('pagewalk/frameTable', { start: 0, count: 0 }, stop.session),
    ]);
    this.post({
      type: 'frameSummary',
      totalFrames: head.total,
      domains: domains.map((d) => ({ id: d.id, name: d.name })),
    });
  }

  protected async onMessage(m: Exclude<FromWebviewMessage, { type: 'ready' }>): Promise<void> {
    const stop = this.sessions.stop;
    if (m.type === 'revealFrame') {
      await vscode.commands.executeCommand('pagewalk.showFrame', m.mfn);
      return;
    }
    if (m.type !== 'requestFrames' || !stop) return;
    const count = Math.min(m.count, 4096);
    const { rows } = await this.sessions.request(
      'pagewalk/frameTable',
      { start: m.start, count },
      stop.session,
    );
    const types = new Uint8Array(rows.length);
    const owners = new Uint16Array(rows.length);
    const flags = new Uint8Array(rows.length);
    rows.forEach((r, i) => {
      const code = FRAME_TYPE_CODES.lastIndexOf(r.type as (typeof FRAME_TYPE_CODES)[number]);
      types[i] = code < 0 ? 0 : code;
      owners[i] = r.owner;
      flags[i] = (r.pinned ? FRAME_PINNED : 0) | (r.validated ? FRAME_VALIDATED : 0);
    });
    this.post({ type: 'frames', requestId: m.requestId, start: m.start, types, owners, flags });
  }
}
