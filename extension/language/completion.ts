/**
 * Completion: keywords, built-in constants (with their value), registers, built-in functions, and
 * the domains, consts and procs the document declares.
 */
import * as vscode from 'vscode';
import { BUILTIN_CONSTANTS, KEYWORDS, REGISTERS, isBuiltinFunction } from '../../engine/language';
import { hex } from '../bits';
import { declaredNames } from './symbols';

const FUNCTIONS = [
  'va', 'l1_index', 'l2_index', 'l3_index', 'l4_index', 'gpa', 'pte_addr', 'alloc', 'mfn', 'pfn',
  'read8', 'read16', 'read32', 'read64', 'read', 'type_of', 'type_count', 'ref_count', 'pinned',
  'validated', 'owner', 'translate', 'guest_translate', 'tlb_lookup', 'shadowed', 'shadow_count',
  'write_protected', 'out_of_sync',
].filter((f) => isBuiltinFunction(f)); // prettier-ignore

export class GuestCompletionProvider implements vscode.CompletionItemProvider {
  provideCompletionItems(doc: vscode.TextDocument): vscode.CompletionItem[] {
    const items: vscode.CompletionItem[] = [];
    for (const k of KEYWORDS) items.push(new vscode.CompletionItem(k, vscode.CompletionItemKind.Keyword));
    for (const [name, value] of BUILTIN_CONSTANTS) {
      const item = new vscode.CompletionItem(name, vscode.CompletionItemKind.Constant);
      item.detail = hex(value);
      items.push(item);
    }
    for (const r of REGISTERS) items.push(new vscode.CompletionItem(r, vscode.CompletionItemKind.Variable));
    for (const f of FUNCTIONS) {
      const item = new vscode.CompletionItem(f, vscode.CompletionItemKind.Function);
      item.insertText = new vscode.SnippetString(`${f}($0)`);
      items.push(item);
    }
    for (const d of declaredNames(doc)) {
      const kind = d.kind === 'proc' ? vscode.CompletionItemKind.Method : d.kind === 'domain' ? vscode.CompletionItemKind.Module : vscode.CompletionItemKind.Constant; // prettier-ignore
      const item = new vscode.CompletionItem(d.name, kind);
      item.detail = `${d.kind} ${d.name} ${d.detail}`.trim();
      items.push(item);
    }
    return items;
  }
}
