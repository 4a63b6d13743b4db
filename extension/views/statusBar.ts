/**
 * The status bar item of a paused Pagewalk session: which domain and vCPU stopped, and its CR3.
 * Clicking it asks for an address to translate.
 */
import * as vscode from 'vscode';
import type { PagewalkSessions, StopInfo } from '../debug/pagewalkSessions';

export class PagewalkStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    'pagewalk.status',
    vscode.StatusBarAlignment.Left,
    50,
  );
  private readonly subscription: vscode.Disposable;

  constructor(private readonly sessions: PagewalkSessions) {
    this.item.name = 'Pagewalk vCPU';
    this.item.command = 'pagewalk.translateAddress';
    this.subscription = sessions.onDidChangeState((stop) => void this.update(stop));
  }

  private async update(stop: StopInfo | null): Promise<void> {
    if (!stop) {
      this.item.hide();
      return;
    }
    try {
      const { domains } = await this.sessions.request('pagewalk/domains', {}, stop.session);
      for (const d of domains) {
        const v = d.vcpus.find((x) => x.threadId === stop.threadId);
        if (!v) continue;
        this.item.text = `$(chip) ${d.name}.vcpu${v.index}  CR3 ${v.cr3}`;
        this.item.tooltip = `Pagewalk: ${d.name} (${d.kind}) vcpu${v.index}, ${v.mode} mode — click to translate an address`;
        this.item.show();
        return;
      }
      this.item.hide();
    } catch {
      this.item.hide();
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
