/**
 * Lets F5 on a `.guest` file work without a launch.json: an empty configuration is filled from the
 * active editor (vscode-e2e.md §8.3 — otherwise F5 silently does nothing), and `program` defaults to
 * the open file. `stopOnEntry` comes from the `pagewalk.stopOnEntry` setting so a first session
 * pauses where the page tables can be looked at.
 */
import * as vscode from 'vscode';
import { DEBUG_TYPE } from './pagewalkSessions';

export class PagewalkConfigurationProvider implements vscode.DebugConfigurationProvider {
  provideDebugConfigurations(): vscode.DebugConfiguration[] {
    return [
      {
        type: DEBUG_TYPE,
        request: 'launch',
        name: 'Pagewalk: Debug current .guest file',
        program: '${file}',
        stopOnEntry: true,
      },
    ];
  }

  resolveDebugConfiguration(
    _folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): vscode.DebugConfiguration | undefined {
    if (!config.type && !config.request && !config.name) {
      const editor = vscode.window.activeTextEditor;
      if (editor?.document.languageId !== 'guest') {
        void vscode.window.showInformationMessage('Open a .guest file to debug it with Pagewalk.');
        return undefined;
      }
      config.type = DEBUG_TYPE;
      config.request = 'launch';
      config.name = 'Pagewalk: Debug current .guest file';
      config.program = editor.document.uri.fsPath;
    }
    if (!config.program) {
      const doc = vscode.window.activeTextEditor?.document;
      if (doc?.languageId === 'guest') config.program = doc.uri.fsPath;
    }
    if (!config.program) {
      void vscode.window.showErrorMessage(
        'Pagewalk: the launch configuration needs a "program" (.guest file).',
      );
      return undefined;
    }
    if (config.stopOnEntry === undefined) {
      config.stopOnEntry = vscode.workspace.getConfiguration('pagewalk').get<boolean>('stopOnEntry', true);
    }
    if (config.trace === undefined) {
      config.trace = vscode.workspace.getConfiguration('pagewalk').get<boolean>('trace', false);
    }
    return config;
  }
}
