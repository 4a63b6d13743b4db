/**
 * A control register of a vCPU, expandable into its decoded bit fields (`PG [31] = 1`), with the
 * hex/binary/bit-table tooltip. CR3's children are its fields; the table it points to is the vCPU's
 * "Page tables" node.
 */
import * as vscode from 'vscode';
import type { BitField } from '../../bits';
import { describeValueMarkdown, fieldValue, hex, parseHex, setFlags } from '../../bits';
import { markChanged } from '../changeTracker';
import { TreeNode } from './treeNode';

export class RegisterNode extends TreeNode {
  private readonly value: bigint;

  constructor(
    readonly id: string,
    private readonly name: string,
    value: string,
    private readonly fields: readonly BitField[],
    private readonly changed: boolean,
    /** For context menus: the vCPU's thread, to break on a write of this value. */
    readonly threadId: number | null,
  ) {
    super();
    this.value = parseHex(value);
  }

  get hexValue(): string {
    return hex(this.value);
  }

  getTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.name, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = this.id;
    const flags = setFlags(this.value, this.fields);
    item.description = `${hex(this.value)}${flags.length ? `  ${flags.join(' ')}` : ''}`;
    item.iconPath = new vscode.ThemeIcon('symbol-constant');
    item.tooltip = new vscode.MarkdownString(describeValueMarkdown(this.name, this.value, this.fields));
    item.contextValue = this.name === 'CR3' ? 'register.cr3' : 'register';
    markChanged(item, this.changed);
    return item;
  }

  override getChildren(): Promise<TreeNode[]> {
    return Promise.resolve(this.fields.map((f) => new BitFieldNode(`${this.id}/${f.name}`, f, this.value)));
  }
}

export class BitFieldNode extends TreeNode {
  constructor(
    readonly id: string,
    private readonly field: BitField,
    private readonly value: bigint,
  ) {
    super();
  }

  getTreeItem(): vscode.TreeItem {
    const f = this.field;
    const range = f.hi === f.lo ? `[${f.lo}]` : `[${f.hi}:${f.lo}]`;
    const v = fieldValue(this.value, f);
    const item = new vscode.TreeItem(`${f.name} ${range}`, vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.description = `${f.hi === f.lo ? v.toString() : hex(v)} — ${f.description}`;
    item.iconPath = new vscode.ThemeIcon(f.hi === f.lo && v === 0n ? 'circle-outline' : 'circle-filled');
    item.contextValue = 'bitField';
    return item;
  }
}
