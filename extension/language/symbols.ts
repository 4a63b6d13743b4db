/**
 * The names a `.guest` document declares (domains, consts, procs), found by a line scan rather than
 * the parser so completion and go-to-definition keep working while the file has errors.
 */
import type * as vscode from 'vscode';

export interface DeclaredName {
  kind: 'domain' | 'const' | 'proc';
  name: string;
  line: number;
  column: number;
  /** The rest of the declaration line, shown as detail. */
  detail: string;
}

const DECLARATION = /^(\s*)(domain|const|proc)\s+([A-Za-z_]\w*)(.*)$/;

export function declaredNames(doc: vscode.TextDocument): DeclaredName[] {
  const out: DeclaredName[] = [];
  for (let i = 0; i < doc.lineCount; i++) {
    const m = DECLARATION.exec(doc.lineAt(i).text.replace(/;.*$/, ''));
    if (!m) continue;
    const column = doc.lineAt(i).text.indexOf(m[3], m[1].length + m[2].length);
    out.push({ kind: m[2] as DeclaredName['kind'], name: m[3], line: i, column, detail: m[4].trim() });
  }
  return out;
}
