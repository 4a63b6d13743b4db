/**
 * Load-time diagnostics (`guest-language.md` § Errors): every stage appends to one list, which
 * `parseProgram` sorts by line then column before handing it out.
 */

export interface Diagnostic {
  readonly line: number;
  readonly column: number;
  readonly message: string;
  readonly severity: 'error';
}

export function makeDiagnostic(line: number, column: number, message: string): Diagnostic {
  return { line, column, message, severity: 'error' };
}

/** `FILE:LINE:COL: error: MESSAGE`, the line `pagewalk run` prints for a rejected file. */
export function formatDiagnostic(file: string, d: Diagnostic): string {
  return `${file}:${d.line}:${d.column}: error: ${d.message}`;
}

/** Sorted by line then column; the sort is stable, so errors at one position keep their order. */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  return [...list].sort((a, b) => a.line - b.line || a.column - b.column);
}
