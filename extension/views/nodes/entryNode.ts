/**
 * One page-table entry: index, raw value, decoded flags, the VA range it maps and the frame it points
 * to. A present entry of L4–L2 (without PS) expands into the next table. The frame's Xen type and
 * counts are fetched only when the tooltip is shown (`pagewalk/frameTable` for PV, where table space
 * is machine frames).
 */
import * as vscode from 'vscode';
import type { PageTableEntryRow } from '../../../debug-adapter/protocol';
import { PTE_FIELDS, describeValueMarkdown, entrySpan, formatSize, hex, parseHex } from '../../bits';
import { markChanged } from '../changeTracker';
import type { TableLocation } from '../pageTableSource';
import { PageTableNode } from './pageTableNode';
import type { TreeContext } from './treeContext';
import { TreeNode } from './treeNode';

const LEVEL_NAMES = ['', 'PTE', 'PDE', 'PDPTE', 'PML4E'];

export class EntryNode extends TreeNode {
  readonly changed: boolean;

  constructor(
    private readonly ctx: TreeContext,
    readonly id: string,
    readonly table: TableLocation,
    readonly row: PageTableEntryRow,
  ) {
    super();
    const key = `tbl:${table.domain}:${table.level}:${table.frame}:${row.index}`;
    this.changed = ctx.changes.note(key, row.value);
  }

  /** The VA range the entry covers: its first address and size. */
  get vaRange(): { start: bigint; size: bigint } {
    return { start: parseHex(this.row.vaStart), size: entrySpan(this.table.level) };
  }

  getTreeItem(): vscode.TreeItem {
    const r = this.row;
    const level = this.table.level;
    const expandable = r.expandable && level > 1;
    const item = new vscode.TreeItem(
      `[${r.index}] ${LEVEL_NAMES[level] ?? `L${level}`}`,
      expandable ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    item.id = this.id;
    const { start, size } = this.vaRange;
    const target = r.target === null ? '' : ` → ${this.table.kind === 'pv' ? 'mfn' : 'gfn'} ${hex(r.target)}`;
    const flags = r.present ? r.flags.filter((f) => f !== 'P').join(' ') : 'not present';
    item.description = `${r.value}  ${flags}${target}  VA ${hex(start)} (${formatSize(size)})`;
    item.iconPath = new vscode.ThemeIcon(
      r.present ? (expandable ? 'symbol-array' : 'symbol-field') : 'circle-slash',
    );
    item.contextValue = r.present ? (expandable ? 'entry.table' : 'entry.leaf') : 'entry.absent';
    markChanged(item, this.changed);
    return item;
  }

  override getChildren(): Promise<TreeNode[]> {
    const r = this.row;
    if (!r.expandable || r.target === null || this.table.level <= 1) return Promise.resolve([]);
    const level = this.table.level - 1;
    return Promise.resolve([
      new PageTableNode(this.ctx, {
        id: `${this.id}/L${level}`,
        label: `L${level} table`,
        description: `frame ${hex(r.target)} · VA ${r.vaStart}`,
        location: { ...this.table, frame: r.target, level, vaBase: parseHex(r.vaStart) },
      }),
    ]);
  }

  override async resolveTooltip(): Promise<vscode.MarkdownString> {
    const r = this.row;
    const value = parseHex(r.value);
    const { start, size } = this.vaRange;
    let text = describeValueMarkdown(`${LEVEL_NAMES[this.table.level]} [${r.index}]`, value, PTE_FIELDS);
    text += `\n\nVA ${hex(start)} – ${hex(start + size - 1n)} (${formatSize(size)})`;
    if (r.target !== null && this.table.kind === 'pv') {
      try {
        const ft = await this.ctx.sessions.request(
          'pagewalk/frameTable',
          { start: r.target, count: 1 },
          this.table.session,
        );
        const f = ft.rows[0];
        if (f) text += `\n\nframe mfn ${hex(f.mfn)}: type **${f.type}** (type count ${f.typeCount}), ref count ${f.refCount}${f.pinned ? ', pinned' : ''}${f.validated ? ', validated' : ''}`; // prettier-ignore
      } catch {
        // The frame details are a bonus; the entry itself is already described.
      }
    } else if (r.target !== null) {
      text += `\n\ntarget gfn ${hex(r.target)} (guest-physical ${hex(BigInt(r.target) * 4096n)})`;
    }
    const md = new vscode.MarkdownString(text);
    md.supportHtml = false;
    return md;
  }
}

/** A run of empty slots, shown as one row so a sparse table stays short. */
export class NotPresentRunNode extends TreeNode {
  constructor(
    readonly id: string,
    private readonly row: PageTableEntryRow,
  ) {
    super();
  }

  getTreeItem(): vscode.TreeItem {
    const r = this.row;
    const item = new vscode.TreeItem(
      `[${r.index}–${r.index + r.runLength - 1}]`,
      vscode.TreeItemCollapsibleState.None,
    );
    item.id = this.id;
    item.description = `${r.runLength} entries not present`;
    item.iconPath = new vscode.ThemeIcon('circle-slash');
    item.contextValue = 'entry.run';
    return item;
  }
}
