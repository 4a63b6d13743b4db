/**
 * One table as a picture: a 32×16 grid of its 512 slots (present, non-present, on the walked path,
 * mismatched) and the list of its non-zero entries decoded — flags, what the entry names, the VA
 * range it covers. The same renderer draws an HVM guest table and its shadow side by side.
 */
import { h } from '../common/dom';
import { decodeEntry, entryRange, toHex } from '../common/pageEntry';
import type { Hex, TableEntry, TableLevel } from '../protocol';

export interface PaneRow {
  index: number;
  value: Hex;
  mismatch?: string;
}

export interface PaneModel {
  title: string;
  subtitle: string;
  level: TableLevel;
  /** VA of the first byte this table maps. */
  base: bigint;
  rows: PaneRow[];
  /** The slot the current walk or drill-down passes through. */
  pathIndex: number | null;
  /** What a non-leaf entry's frame is called (`mfn`, `gfn`, `smfn`). */
  frameLabel: string;
  onOpen: (row: PaneRow) => void;
  onReveal: (frame: number) => void;
}

const LEVEL_NAMES = ['', 'L1', 'L2', 'L3', 'L4'];

export function rowsOf(entries: TableEntry[]): PaneRow[] {
  return [...entries].sort((a, b) => a.index - b.index);
}

export function renderTablePane(model: PaneModel): HTMLElement {
  const byIndex = new Map(model.rows.map((r) => [r.index, r]));
  const grid = h('div', { class: 'grid', role: 'grid', 'aria-label': `${model.title} slots` });
  const rowElements = new Map<number, HTMLTableRowElement>();
  for (let i = 0; i < 512; i++) {
    const row = byIndex.get(i);
    const cell = h('div', { class: 'cell', 'data-index': i, title: `slot ${i}` });
    if (row) {
      cell.classList.add(decodeEntry(row.value, model.level).present ? 'present' : 'nonpresent');
      if (row.mismatch) cell.classList.add('mismatch');
      cell.addEventListener('click', () => {
        const tr = rowElements.get(i);
        tr?.scrollIntoView({ block: 'nearest' });
        tr?.querySelector('button')?.focus();
      });
    }
    if (model.pathIndex === i) cell.classList.add('on-path');
    grid.append(cell);
  }

  const body = h('tbody');
  for (const row of model.rows) {
    const tr = renderRow(model, row);
    rowElements.set(row.index, tr);
    body.append(tr);
  }
  const table = h(
    'table',
    { class: 'entries mono' },
    h(
      'thead',
      {},
      h('tr', {}, ...['', 'slot', 'entry', 'flags', 'names', 'maps'].map((t) => h('th', { text: t }))),
    ),
    body,
  );
  const empty = model.rows.length === 0 ? h('p', { class: 'muted', text: 'all 512 entries are zero' }) : null;
  return h(
    'section',
    { class: 'table-pane', 'data-level': model.level },
    h('h3', { class: 'mono', text: model.title }),
    h('div', { class: 'muted', text: model.subtitle }),
    grid,
    empty,
    table,
  );
}

function renderRow(model: PaneModel, row: PaneRow): HTMLTableRowElement {
  const e = decodeEntry(row.value, model.level);
  const [start, end] = entryRange(model.base, model.level, row.index);
  let target: Node;
  if (!e.present) target = document.createTextNode('not present');
  else if (e.leaf) {
    const size = model.level === 1 ? '4K' : model.level === 2 ? '2M' : '1G';
    const link = h('button', {
      class: 'link',
      text: `${size} page ${model.frameLabel === 'smfn' ? 'mfn' : model.frameLabel} ${toHex(e.frame)}`,
    });
    link.addEventListener('click', () => model.onReveal(e.frame));
    target = link;
  } else {
    const link = h('button', {
      class: 'link',
      text: `${LEVEL_NAMES[model.level - 1]} ${model.frameLabel} ${toHex(e.frame)}`,
    });
    link.addEventListener('click', () => model.onOpen(row));
    target = link;
  }
  const tr = h(
    'tr',
    {
      class: `row${e.present ? '' : ' absent'}${row.mismatch ? ' mismatch' : ''}${model.pathIndex === row.index ? ' on-path' : ''}`,
      'data-index': row.index,
    },
    h('td', { class: 'mark', text: row.mismatch ? '≠' : '', title: row.mismatch }),
    h('td', { text: String(row.index) }),
    h('td', { text: row.value }),
    h('td', { text: e.flags.join(' ') }),
    h('td', {}, target),
    h('td', { class: 'muted', text: `${toHex(start)}–${toHex(end)}` }),
  );
  return tr;
}

/** Where a shadow entry disagrees with its guest entry in a way no lazy fill-in explains. */
export function shadowMismatch(guest: Hex | undefined, shadow: Hex, level: TableLevel): string | undefined {
  const s = decodeEntry(shadow, level);
  if (!s.present) return undefined; // shadows fill in lazily: absent is never wrong
  if (!guest) return 'shadow present, guest entry zero';
  const g = decodeEntry(guest, level);
  if (!g.present) return 'shadow present, guest not present';
  if (s.flags.includes('RW') && !g.flags.includes('RW')) return 'shadow writable, guest read-only';
  if (s.flags.includes('US') && !g.flags.includes('US')) return 'shadow user, guest supervisor';
  if (!s.flags.includes('NX') && g.flags.includes('NX')) return 'shadow executable, guest NX';
  return undefined;
}
