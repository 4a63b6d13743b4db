/** Go to definition for procs, consts and domains of the same file. */
import * as vscode from 'vscode';
import { declaredNames } from './symbols';

export class GuestDefinitionProvider implements vscode.DefinitionProvider {
  provideDefinition(doc: vscode.TextDocument, position: vscode.Position): vscode.Location | undefined {
    const range = doc.getWordRangeAtPosition(position, /[A-Za-z_]\w*/);
    if (!range) return undefined;
    const word = doc.getText(range);
    const found = declaredNames(doc).find((d) => d.name === word);
    if (!found) return undefined;
    return new vscode.Location(doc.uri, new vscode.Position(found.line, found.column));
  }
}
