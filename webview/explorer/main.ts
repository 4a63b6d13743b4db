/**
 * The page-table explorer. It keeps the tables the extension sent, keyed by the frame a parent entry
 * names (mfn for PV, gfn for HVM), and a drill-down path from the root; the extension sends more
 * tables on request. A walk replaces the path with the walked one, so each level's slot is lit.
 */
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { byId, clear, h } from '../common/dom';
import { parseHex, toHex } from '../common/pageEntry';
import { loadState, newRequestId, onExtensionMessage, postToExtension, saveState } from '../common/vscodeApi';
import type { PageTable, TableLevel, TableRef, TablesMessage, WalkMessage } from '../protocol';
import { renderTablePane, rowsOf, shadowMismatch } from './tablePane';
import type { PaneRow } from './tablePane';
import { renderWalkPanel } from './walkPanel';

interface PathStep {
  key: number;
  /** The slot taken from this table to the next one, or lit by the walk. */
  index: number | null;
}

const saved = loadState({ va: '', path: [] as PathStep[] });
let domain: TablesMessage | null = null;
const tables = new Map<number, PageTable>();
let path: PathStep[] = saved.path;
let walk: WalkMessage | null = null;

const keyOf = (ref: TableRef): number => ref.gfn ?? ref.mfn;
const persist = (): void => saveState({ va: vaField().value, path });
const vaField = (): HTMLInputElement => byId<HTMLInputElement>('va');

function render(): void {
  byId('domain').textContent = domain ? `${domain.domain}.vcpu${domain.vcpu}` : 'no domain';
  byId('paging').textContent = domain ? domain.paging : '';
  byId('root').textContent = domain?.root ? `root ${describe(domain.root)}` : domain ? 'no base pointer' : '';
  renderWalk();
  renderCrumbs();
  renderPanes();
}

function describe(ref: TableRef): string {
  return ref.gfn === null ? `mfn ${toHex(ref.mfn)}` : `gfn ${toHex(ref.gfn)} (mfn ${toHex(ref.mfn)})`;
}

function renderWalk(): void {
  const section = byId('walk');
  clear(section);
  section.hidden = !walk;
  if (walk) section.append(renderWalkPanel(walk, (i) => openDepth(i)));
}

function renderCrumbs(): void {
  const nav = byId('crumbs');
  clear(nav);
  path.forEach((step, depth) => {
    const t = tables.get(step.key);
    const button = h('button', {
      class: 'link mono',
      text: t ? `L${t.level} ${describe(t)}` : `${toHex(step.key)}…`,
    });
    button.addEventListener('click', () => openDepth(depth));
    if (depth > 0) nav.append(h('span', { class: 'codicon codicon-chevron-right' }));
    nav.append(button);
  });
}

/** Shows the table at `depth` of the path, keeping the slot that leads on lit. */
function openDepth(depth: number): void {
  path = path.slice(0, depth + 1);
  persist();
  render();
}

function baseOf(depth: number): bigint {
  let base = 0n;
  for (let d = 0; d < depth; d++) {
    const level = 4 - d;
    base += BigInt(path[d]?.index ?? 0) << BigInt(12 + 9 * (level - 1));
  }
  return base;
}

function renderPanes(): void {
  const guestPane = byId('guest');
  const shadowPane = byId('shadow');
  clear(guestPane);
  clear(shadowPane);
  const depth = path.length - 1;
  const step = path[depth];
  const table = step ? tables.get(step.key) : undefined;
  shadowPane.hidden = !table?.shadow;
  if (!step) {
    guestPane.append(
      h('p', { class: 'muted', text: domain ? 'no page tables to show' : 'waiting for a stop…' }),
    );
    return;
  }
  if (!table) {
    guestPane.append(h('p', { class: 'muted', text: `loading table ${toHex(step.key)}…` }));
    return;
  }
  const hvm = table.gfn !== null;
  const guestValues = new Map(table.entries.map((e) => [e.index, e.value]));
  const shadowRows: PaneRow[] = (table.shadow?.entries ?? []).map((e) => ({
    index: e.index,
    value: e.value,
    mismatch: e.mismatch ?? shadowMismatch(guestValues.get(e.index), e.value, table.level),
  }));
  const mismatched = new Map(shadowRows.filter((r) => r.mismatch).map((r) => [r.index, r.mismatch]));
  const base = baseOf(depth);
  const open = (row: PaneRow): void => drill(depth, row.index, table.level);
  const flags = [table.frameType, table.pinned ? 'pinned' : ''].filter(Boolean).join(', ');
  guestPane.append(
    renderTablePane({
      title: `L${table.level} ${hvm ? 'guest table' : 'table'} ${describe(table)}`,
      subtitle: `${table.entries.length} non-zero entries${flags ? ` · ${flags}` : ''} · maps from ${toHex(base)}`,
      level: table.level,
      base,
      rows: rowsOf(table.entries).map((r) => ({ ...r, mismatch: mismatched.get(r.index) })),
      pathIndex: step.index,
      frameLabel: hvm ? 'gfn' : 'mfn',
      onOpen: open,
      onReveal: hvm ? revealGuestFrame : reveal,
    }),
  );
  if (table.shadow) {
    shadowPane.append(
      renderTablePane({
        title: `${table.shadow.type} shadow smfn ${toHex(table.shadow.smfn)}`,
        subtitle: `${table.shadow.entries.length} non-zero entries · ${mismatched.size} mismatched`,
        level: table.level,
        base,
        rows: shadowRows.sort((a, b) => a.index - b.index),
        pathIndex: step.index,
        frameLabel: 'smfn',
        // A shadow entry's target is the shadow of the guest entry's target: follow the guest.
        onOpen: open,
        onReveal: reveal,
      }),
    );
  }
}

function reveal(frame: number): void {
  postToExtension({ type: 'revealFrame', mfn: frame });
}

/** An HVM guest entry names a gfn; the extension finds its machine frame through the p2m. */
function revealGuestFrame(gfn: number): void {
  postToExtension({ type: 'revealGuestFrame', gfn });
}

function drill(depth: number, index: number, level: TableLevel): void {
  const table = tables.get(path[depth]?.key ?? -1);
  const entry = table?.entries.find((e) => e.index === index);
  if (!table || !entry || level === 1) return;
  const frame = Number((BigInt(entry.value) & 0x000f_ffff_ffff_f000n) >> 12n);
  path = [...path.slice(0, depth), { key: path[depth]!.key, index }, { key: frame, index: null }];
  if (!tables.has(frame)) {
    postToExtension({
      type: 'requestTable',
      requestId: newRequestId(),
      frame,
      level: (level - 1) as TableLevel,
    });
  }
  persist();
  render();
}

function requestWalk(): void {
  const va = parseHex(vaField().value);
  if (va === null) {
    walk = null;
    const section = byId('walk');
    section.hidden = false;
    section.replaceChildren(h('span', { class: 'error', text: `not an address: ${vaField().value}` }));
    return;
  }
  persist();
  postToExtension({ type: 'requestWalk', requestId: newRequestId(), va: toHex(va) });
}

onExtensionMessage((message) => {
  switch (message.type) {
    case 'tables': {
      const sameDomain = domain?.domainId === message.domainId;
      domain = message;
      tables.clear();
      for (const t of message.tables) tables.set(keyOf(t), t);
      const rootKey = message.root ? keyOf(message.root) : null;
      // Keep the drill-down across stops when it still starts at the same root.
      if (rootKey === null) path = [];
      else if (!sameDomain || path[0]?.key !== rootKey) path = [{ key: rootKey, index: null }];
      persist();
      render();
      break;
    }
    case 'table':
      if (message.table) tables.set(keyOf(message.table), message.table);
      render();
      break;
    case 'walk':
      walk = message;
      path = message.levels.map((l) => ({ key: keyOf(l.table), index: l.index }));
      for (const l of message.levels) {
        if (!tables.has(keyOf(l.table))) {
          postToExtension({
            type: 'requestTable',
            requestId: newRequestId(),
            frame: keyOf(l.table),
            level: l.level,
          });
        }
      }
      persist();
      render();
      break;
    default:
      break;
  }
});

// Enter and the button both walk; the form only exists for layout, so never let it navigate.
byId('walk-form').addEventListener('submit', (event) => event.preventDefault());
byId('walk-button').addEventListener('click', requestWalk);
vaField().addEventListener('keydown', (event) => {
  if (event.key === 'Enter') requestWalk();
});
vaField().value = saved.va;
render();
postToExtension({ type: 'ready', view: 'explorer' });
