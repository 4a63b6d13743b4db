/**
 * Pagewalk's extension host side. `activate` only constructs and registers: the debugger
 * (configuration provider, adapter factory, session tracker), the Run and Debug views, the status
 * bar, the webview panels, the commands and the `.guest` language features.
 */
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { PagewalkAdapterFactory } from './debug/adapterFactory';
import { PagewalkConfigurationProvider } from './debug/configurationProvider';
import { DEBUG_TYPE, PagewalkSessions } from './debug/pagewalkSessions';
import { GuestCompletionProvider } from './language/completion';
import { GuestDefinitionProvider } from './language/definition';
import { GuestDiagnostics } from './language/diagnostics';
import { GuestHoverProvider } from './language/hover';
import { DomainsTreeProvider } from './views/domainsTree';
import { FramesTreeProvider } from './views/framesTree';
import { ShadowsTreeProvider } from './views/shadowsTree';
import { PagewalkStatusBar } from './views/statusBar';
import { TrapsTreeProvider } from './views/trapsTree';
import { ExplorerPanel } from './webviews/explorerPanel';
import { FrameMapPanel } from './webviews/frameMapPanel';
import { TimelinePanel } from './webviews/timelinePanel';

/** What `activate` returns: the parts the extension tests inspect through `getExtension().exports`. */
export interface PagewalkApi {
  sessions: PagewalkSessions;
  domains: DomainsTreeProvider;
  frames: FramesTreeProvider;
  shadows: ShadowsTreeProvider;
  traps: TrapsTreeProvider;
  explorer: ExplorerPanel;
  frameMap: FrameMapPanel;
  timeline: TimelinePanel;
  diagnostics: GuestDiagnostics;
  adapterFactory: PagewalkAdapterFactory;
}

export function activate(context: vscode.ExtensionContext): PagewalkApi {
  const subs = context.subscriptions;
  const guest: vscode.DocumentSelector = { language: 'guest' };

  const sessions = new PagewalkSessions();
  const adapterFactory = new PagewalkAdapterFactory(context.extensionPath);
  subs.push(
    sessions,
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new PagewalkConfigurationProvider()),
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, adapterFactory),
  );

  const domains = new DomainsTreeProvider(sessions);
  const frames = new FramesTreeProvider(sessions);
  const shadows = new ShadowsTreeProvider(sessions);
  const traps = new TrapsTreeProvider(sessions);
  subs.push(
    domains,
    frames,
    shadows,
    traps,
    vscode.window.createTreeView('pagewalk.domains', { treeDataProvider: domains, showCollapseAll: true }),
    vscode.window.createTreeView('pagewalk.frames', { treeDataProvider: frames, showCollapseAll: true }),
    vscode.window.createTreeView('pagewalk.shadows', { treeDataProvider: shadows }),
    vscode.window.createTreeView('pagewalk.traps', { treeDataProvider: traps }),
    new PagewalkStatusBar(sessions),
  );

  const explorer = new ExplorerPanel(context.extensionUri, sessions);
  const frameMap = new FrameMapPanel(context.extensionUri, sessions);
  const timeline = new TimelinePanel(context.extensionUri, sessions);
  const output = vscode.window.createOutputChannel('Pagewalk');
  subs.push(explorer, frameMap, timeline, output);
  subs.push(
    ...registerCommands({
      sessions,
      output,
      explorer,
      frameMap,
      timeline,
      traps,
      examplesUri: vscode.Uri.joinPath(context.extensionUri, 'examples'),
      refresh: () => {
        for (const tree of [domains, frames, shadows, traps]) tree.refresh();
      },
    }),
  );

  const diagnostics = new GuestDiagnostics();
  subs.push(
    diagnostics,
    vscode.languages.registerHoverProvider(guest, new GuestHoverProvider()),
    vscode.languages.registerCompletionItemProvider(guest, new GuestCompletionProvider()),
    vscode.languages.registerDefinitionProvider(guest, new GuestDefinitionProvider()),
  );

  return {
    sessions,
    domains,
    frames,
    shadows,
    traps,
    explorer,
    frameMap,
    timeline,
    diagnostics,
    adapterFactory,
  };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
