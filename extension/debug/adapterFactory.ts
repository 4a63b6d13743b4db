/**
 * Where the debug adapter runs. Inline (in the extension host, no process to start, and what the
 * e2e tests use) when the bundled adapter module exports its session class; otherwise, or when the
 * `pagewalk.adapter.mode` setting says `executable`, as `node dist/debugAdapter.js` over stdio — the
 * same file a standalone client such as nvim-dap would run.
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import { PagewalkSession } from '../../debug-adapter/session';

/** A session class of `@vscode/debugadapter`, which VS Code can run in-process. */
type InlineSessionClass = new () => vscode.DebugAdapter;

export type AdapterMode = 'inline' | 'executable';

export class PagewalkAdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  constructor(
    private readonly extensionPath: string,
    /** The adapter's session class, bundled from its source; undefined forces the executable. */
    private readonly inlineSession:
      InlineSessionClass | undefined = PagewalkSession as unknown as InlineSessionClass,
  ) {}

  get adapterPath(): string {
    return join(this.extensionPath, 'dist', 'debugAdapter.js');
  }

  createDebugAdapterDescriptor(): vscode.DebugAdapterDescriptor {
    const mode = vscode.workspace.getConfiguration('pagewalk').get<AdapterMode>('adapter.mode', 'inline');
    if (mode === 'inline') {
      const Session = this.inlineSession;
      if (Session) return new vscode.DebugAdapterInlineImplementation(new Session());
    }
    // The extension host's own Node when it is plain Node (code-server, remote); Electron's binary is no `node`.
    const runtime =
      vscode.workspace.getConfiguration('pagewalk').get<string>('adapter.nodePath', '') ||
      (process.versions.electron ? 'node' : process.execPath);
    return new vscode.DebugAdapterExecutable(runtime, [this.adapterPath]);
  }
}
