/**
 * Problems as you type: every change of a `.guest` document reparses it with the engine's own
 * `parseProgram` (pure, no engine state), debounced, so the Problems panel shows exactly what
 * `pagewalk run` would reject, at the same line and column.
 */
import * as vscode from 'vscode';
import { parseProgram } from '../../engine/language';
import type { Diagnostic } from '../../engine/language';

const DEBOUNCE_MS = 250;

export class GuestDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('pagewalk');
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor() {
    this.disposables.push(
      this.collection,
      vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document, DEBOUNCE_MS)),
      vscode.workspace.onDidCloseTextDocument((d) => this.collection.delete(d.uri)),
    );
    for (const d of vscode.workspace.textDocuments) this.schedule(d, 0);
  }

  private schedule(doc: vscode.TextDocument, delay: number): void {
    if (doc.languageId !== 'guest') return;
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.update(doc);
      }, delay),
    );
  }

  /** Parses `doc` now and publishes its diagnostics; returns them (the tests call this). */
  update(doc: vscode.TextDocument): vscode.Diagnostic[] {
    const { diagnostics } = parseProgram(doc.getText(), doc.uri.fsPath);
    const list = diagnostics.map((d) => toVscode(doc, d));
    this.collection.set(doc.uri, list);
    return list;
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
  }
}

/** The engine's 1-based line/column becomes a range over the word at that column. */
function toVscode(doc: vscode.TextDocument, d: Diagnostic): vscode.Diagnostic {
  const line = Math.min(Math.max(0, d.line - 1), Math.max(0, doc.lineCount - 1));
  const column = Math.max(0, d.column - 1);
  const start = new vscode.Position(line, Math.min(column, doc.lineAt(line).text.length));
  const word = doc.getWordRangeAtPosition(start, /[\w.]+/);
  const range = word ?? new vscode.Range(start, start.translate(0, 1));
  const diagnostic = new vscode.Diagnostic(range, d.message, vscode.DiagnosticSeverity.Error);
  diagnostic.source = 'pagewalk';
  return diagnostic;
}
