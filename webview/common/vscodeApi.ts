/**
 * The typed bridge to the extension: `acquireVsCodeApi` may be called once per page, so every view
 * goes through this module. State saved with `saveState` survives the panel being hidden.
 */
import type { FromWebviewMessage, ToWebviewMessage } from '../protocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

let api: VsCodeApi | undefined;

function vscode(): VsCodeApi {
  api ??= acquireVsCodeApi();
  return api;
}

export function postToExtension(message: FromWebviewMessage): void {
  vscode().postMessage(message);
}

export function loadState<T extends object>(defaults: T): T {
  const saved = vscode().getState();
  return saved && typeof saved === 'object' ? { ...defaults, ...(saved as Partial<T>) } : defaults;
}

export function saveState(state: object): void {
  vscode().setState(state);
}

/** Calls `handler` for each message from the extension; anything without a string `type` is ignored. */
export function onExtensionMessage(handler: (message: ToWebviewMessage) => void): void {
  window.addEventListener('message', (event: MessageEvent) => {
    const data: unknown = event.data;
    if (data && typeof data === 'object' && typeof (data as { type?: unknown }).type === 'string') {
      handler(data as ToWebviewMessage);
    }
  });
}

let nextRequestId = 1;
export function newRequestId(): number {
  return nextRequestId++;
}
