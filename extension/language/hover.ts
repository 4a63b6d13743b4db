/**
 * Hover over a number or a built-in constant: its value in hex and binary and, decoded as a
 * page-table entry (or as CR0/CR4 bits next to `cr0`/`cr4`), the bit table — the question a reader
 * of `gpa(l1) | P | RW | 0x8000…` keeps asking.
 */
import * as vscode from 'vscode';
import { BUILTIN_CONSTANTS } from '../../engine/language';
import { CR0_FIELDS, CR4_FIELDS, PTE_FIELDS, describeValueMarkdown } from '../bits';
import type { BitField } from '../bits';

const TOKEN = /0x[0-9a-fA-F_]+|0b[01_]+|\d[\d_]*|[A-Za-z_]\w*/;

export class GuestHoverProvider implements vscode.HoverProvider {
  provideHover(doc: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const range = doc.getWordRangeAtPosition(position, TOKEN);
    if (!range) return undefined;
    const word = doc.getText(range);
    const value = valueOf(word);
    if (value === null) return undefined;
    const line = doc.lineAt(position.line).text.toLowerCase();
    const [title, fields] = layoutFor(word, line);
    return new vscode.Hover(
      new vscode.MarkdownString(describeValueMarkdown(`${word} as ${title}`, value, fields)),
      range,
    );
  }
}

function valueOf(word: string): bigint | null {
  if (/^[A-Za-z_]/.test(word)) return BUILTIN_CONSTANTS.get(word) ?? null;
  try {
    return BigInt(word.replace(/_/g, ''));
  } catch {
    return null;
  }
}

const CR0_NAMES = new Set(['PE', 'MP', 'TS', 'ET', 'NE', 'WP', 'AM', 'PG']);
const CR4_NAMES = new Set(['PSE', 'PAE', 'MCE', 'PGE', 'OSFXSR', 'OSXMMEXCPT']);

/** CR bits when the constant is a CR bit or the line moves into cr0/cr4; PTE bits otherwise. */
function layoutFor(word: string, line: string): [string, readonly BitField[]] {
  if (CR0_NAMES.has(word) || /\bcr0\b/.test(line)) return ['CR0', CR0_FIELDS];
  if (CR4_NAMES.has(word) || /\bcr4\b/.test(line)) return ['CR4', CR4_FIELDS];
  return ['page-table entry', PTE_FIELDS];
}
