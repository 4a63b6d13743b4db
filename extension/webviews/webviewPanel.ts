/**
 * The host side every Pagewalk webview shares: one panel per kind, the page from `webview/html.ts`
 * with a strict CSP and a fresh nonce per load, resources limited to the bundles and the codicon
 * font, and typed messages (`webview/protocol.ts`) both ways. Subclasses answer the webview's
 * requests and push state after every stop.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { renderWebviewHtml } from '../../webview/html';
import type { WebviewKind } from '../../webview/html';
import type { FromWebviewMessage, ToWebviewMessage } from '../../webview/protocol';
import type { PagewalkSessions, StopInfo } from '../debug/pagewalkSessions';

export abstract class WebviewPanelHost implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  /** The last message of each type sent to the page: what the extension tests check it was shown. */
  readonly lastPosted = new Map<ToWebviewMessage['type'], ToWebviewMessage>();
  private readonly postEmitter = new vscode.EventEmitter<ToWebviewMessage>();
  readonly onDidPost = this.postEmitter.event;

  constructor(
    protected readonly extensionUri: vscode.Uri,
    protected readonly sessions: PagewalkSessions,
    private readonly kind: WebviewKind,
    private readonly title: string,
  ) {
    this.disposables.push(
      sessions.onDidChangeState((stop) => {
        if (this.panel && this.ready) void this.safely(() => this.onStateChanged(stop));
      }),
    );
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  /** Opens the panel, or reveals it when it is already open. */
  show(column = vscode.ViewColumn.Beside): vscode.WebviewPanel {
    if (this.panel) {
      this.panel.reveal(column);
      return this.panel;
    }
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
    // A packaged extension carries the font in dist/codicons; a development checkout has node_modules.
    const packaged = vscode.Uri.joinPath(this.extensionUri, 'dist', 'codicons');
    const codicons = existsSync(packaged.fsPath)
      ? packaged
      : vscode.Uri.joinPath(this.extensionUri, 'node_modules', '@vscode', 'codicons', 'dist');
    const panel = vscode.window.createWebviewPanel(`pagewalk.${this.kind}`, this.title, column, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [dist, codicons],
    });
    const webview = panel.webview;
    webview.html = renderWebviewHtml(this.kind, {
      cspSource: webview.cspSource,
      nonce: randomBytes(16).toString('base64'),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, `${this.kind}.js`)).toString(),
      codiconsUri: webview.asWebviewUri(vscode.Uri.joinPath(codicons, 'codicon.css')).toString(),
    });
    webview.onDidReceiveMessage((m: FromWebviewMessage) => void this.receive(m), undefined, this.disposables);
    panel.onDidDispose(() => {
      this.panel = undefined;
      this.ready = false;
    });
    this.panel = panel;
    return panel;
  }

  protected post(message: ToWebviewMessage): void {
    if (!this.panel) return;
    void this.panel.webview.postMessage(message);
    this.lastPosted.set(message.type, message);
    this.postEmitter.fire(message);
  }

  private async receive(m: FromWebviewMessage): Promise<void> {
    if (m.type === 'ready') {
      this.ready = true;
      await this.safely(() => this.onStateChanged(this.sessions.stop));
      return;
    }
    await this.safely(() => this.onMessage(m));
  }

  private async safely(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (e) {
      void vscode.window.showErrorMessage(`Pagewalk ${this.title}: ${(e as Error).message ?? String(e)}`);
    }
  }

  /** Sends the webview the state of this stop (or of no stop). */
  protected abstract onStateChanged(stop: StopInfo | null): Promise<void>;
  /** Answers one request of the webview. */
  protected abstract onMessage(m: Exclude<FromWebviewMessage, { type: 'ready' }>): Promise<void>;

  dispose(): void {
    this.panel?.dispose();
    this.postEmitter.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
