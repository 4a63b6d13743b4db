/**
 * The frame map: every machine frame as one cell of a canvas, coloured by type or owner. Only the
 * rows in view are drawn, straight into an `ImageData`, and only their chunks are requested, so a
 * million frames scroll smoothly. Hover shows a frame's details; a click asks the extension to
 * reveal it.
 */
import { byId, clear, h, showTooltip } from '../common/dom';
import { toHex } from '../common/pageEntry';
import { loadState, newRequestId, onExtensionMessage, postToExtension, saveState } from '../common/vscodeApi';
import { DOMID_XEN, FRAME_PINNED, FRAME_SHADOW, FRAME_TYPE_CODES, FRAME_VALIDATED } from '../protocol';
import { CHUNK, FrameStore } from './frameStore';
import { Palette } from './palette';
import type { ColorBy } from './palette';

const state = loadState({ colorBy: 'type' as ColorBy, cellSize: 4 });
const store = new FrameStore();
let domains: { id: number; name: string }[] = [];
let ownerSlot = new Map<number, number>();

const scroller = byId('scroller');
const spacer = byId('spacer');
const canvas = byId<HTMLCanvasElement>('map');
const tooltip = byId('tooltip');
const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
let palette = new Palette(ctx);

function columns(): number {
  return Math.max(1, Math.floor(scroller.clientWidth / state.cellSize));
}

function layout(): void {
  canvas.width = Math.max(1, scroller.clientWidth);
  canvas.height = Math.max(1, scroller.clientHeight);
  const rows = Math.ceil(store.totalFrames / columns());
  spacer.style.height = `${Math.max(0, rows * state.cellSize - canvas.height)}px`;
  requestVisible();
  draw();
}

function visibleRange(): [number, number] {
  const cols = columns();
  const firstRow = Math.floor(scroller.scrollTop / state.cellSize);
  const rows = Math.ceil(canvas.height / state.cellSize) + 1;
  return [firstRow * cols, Math.min(store.totalFrames, (firstRow + rows) * cols) - 1];
}

function requestVisible(): void {
  if (store.totalFrames === 0) return;
  const [first, last] = visibleRange();
  for (const r of store.missing(first, last, newRequestId)) postToExtension({ type: 'requestFrames', ...r });
}

function draw(): void {
  const { width, height } = canvas;
  const image = ctx.createImageData(width, height);
  const pixels = new Uint32Array(image.data.buffer);
  const size = state.cellSize;
  const cols = columns();
  const gap = size >= 4 ? 1 : 0; // a grid line once cells are big enough to tell apart
  const firstRow = Math.floor(scroller.scrollTop / size);
  const [first, last] = visibleRange();
  for (let mfn = first; mfn <= last; mfn++) {
    const chunk = store.chunkOf(mfn);
    let color = palette.unloaded;
    if (chunk) {
      const i = mfn % CHUNK;
      color = palette.color(state.colorBy, chunk.types[i]!, chunk.owners[i]!, chunk.flags[i]!, ownerSlot);
    }
    const x0 = (mfn % cols) * size;
    const y0 = (Math.floor(mfn / cols) - firstRow) * size;
    for (let y = Math.max(0, y0); y < Math.min(height, y0 + size - gap); y++) {
      pixels.fill(color, y * width + x0, y * width + Math.min(width, x0 + size - gap));
    }
  }
  ctx.putImageData(image, 0, 0);
}

function frameAt(event: MouseEvent): number | null {
  const rect = canvas.getBoundingClientRect();
  const col = Math.floor((event.clientX - rect.left) / state.cellSize);
  const row = Math.floor((event.clientY - rect.top + scroller.scrollTop) / state.cellSize);
  if (col >= columns()) return null;
  const mfn = row * columns() + col;
  return mfn < store.totalFrames ? mfn : null;
}

function describeOwner(owner: number): string {
  if (owner === 0) return 'free';
  if (owner === DOMID_XEN) return 'Xen (DOMID_XEN)';
  const d = domains.find((x) => x.id === owner);
  return d ? `${d.name} (domain ${owner})` : `domain ${owner}`;
}

function renderLegend(): void {
  const legend = byId('legend');
  clear(legend);
  for (const item of Palette.legend(state.colorBy, domains)) {
    const swatch = h('span', { class: 'swatch' });
    swatch.style.background = item.cssColor;
    legend.append(h('span', {}, swatch, item.label));
  }
}

canvas.addEventListener('mousemove', (event) => {
  const mfn = frameAt(event);
  if (mfn === null) return void (tooltip.hidden = true);
  const info = store.get(mfn);
  const lines = [`mfn ${toHex(mfn)}`];
  if (!info) lines.push('loading…');
  else {
    lines.push(`type ${FRAME_TYPE_CODES[info.type] ?? info.type}`, `owner ${describeOwner(info.owner)}`);
    const flags = [
      info.flags & FRAME_PINNED ? 'pinned' : '',
      info.flags & FRAME_VALIDATED ? 'validated' : '',
      info.flags & FRAME_SHADOW ? 'shadow page' : '',
    ].filter(Boolean);
    if (flags.length) lines.push(flags.join(', '));
  }
  showTooltip(tooltip, event.clientX, event.clientY, lines);
});
canvas.addEventListener('mouseleave', () => (tooltip.hidden = true));
canvas.addEventListener('click', (event) => {
  const mfn = frameAt(event);
  if (mfn !== null) postToExtension({ type: 'revealFrame', mfn });
});
scroller.addEventListener('scroll', () => {
  requestVisible();
  draw();
});
new ResizeObserver(() => layout()).observe(scroller);

for (const [id, key] of [
  ['color-by', 'colorBy'],
  ['cell-size', 'cellSize'],
] as const) {
  const select = byId<HTMLSelectElement>(id);
  select.value = String(state[key]);
  select.addEventListener('change', () => {
    if (key === 'colorBy') state.colorBy = select.value as ColorBy;
    else state.cellSize = Number(select.value);
    saveState(state);
    renderLegend();
    layout();
  });
}

onExtensionMessage((message) => {
  if (message.type === 'frameSummary') {
    store.reset(message.totalFrames);
    domains = message.domains;
    ownerSlot = new Map(domains.map((d, i) => [d.id, i]));
    palette = new Palette(ctx); // the theme may have changed since the last stop
    byId('total').textContent = `${message.totalFrames} frames`;
    renderLegend();
    layout();
  } else if (message.type === 'frames') {
    if (store.accept(message)) draw();
  }
});

renderLegend();
postToExtension({ type: 'ready', view: 'frameMap' });
