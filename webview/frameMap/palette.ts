/**
 * Cell colours for the frame map. Canvas pixels cannot use `var(--…)`, so each theme colour is
 * resolved once through the canvas itself into a packed RGBA word (little-endian ABGR, the byte order
 * of `ImageData` viewed as `Uint32Array`).
 */
import { themeColor } from '../common/dom';
import { DOMID_XEN, FRAME_SHADOW } from '../protocol';

export type ColorBy = 'type' | 'owner';

export interface LegendItem {
  label: string;
  cssColor: string;
}

const TYPE_LEGEND: [string, string, string][] = [
  // label, theme variable, fallback
  ['free', '--vscode-editor-background', '#1e1e1e'],
  ['NONE', '--vscode-editorWidget-background', '#3c3c3c'],
  ['L1', '--vscode-charts-green', '#89d185'],
  ['L2', '--vscode-charts-yellow', '#cca700'],
  ['L3', '--vscode-charts-orange', '#d18616'],
  ['L4', '--vscode-charts-red', '#f14c4c'],
  ['SEG_DESC', '--vscode-charts-foreground', '#cccccc'],
  ['WRITABLE', '--vscode-charts-blue', '#3794ff'],
  ['shadow', '--vscode-charts-purple', '#b180d7'],
  ['Xen', '--vscode-descriptionForeground', '#9d9d9d'],
];
const OWNER_COLORS: [string, string][] = [
  ['--vscode-charts-blue', '#3794ff'],
  ['--vscode-charts-green', '#89d185'],
  ['--vscode-charts-orange', '#d18616'],
  ['--vscode-charts-purple', '#b180d7'],
  ['--vscode-charts-yellow', '#cca700'],
  ['--vscode-charts-red', '#f14c4c'],
];

export class Palette {
  private readonly types: number[];
  private readonly owners: number[];
  readonly unloaded: number;

  constructor(private readonly ctx: CanvasRenderingContext2D) {
    this.types = TYPE_LEGEND.map(([, v, f]) => this.pack(themeColor(v, f)));
    this.owners = OWNER_COLORS.map(([v, f]) => this.pack(themeColor(v, f)));
    this.unloaded = this.pack(themeColor('--vscode-editor-background', '#1e1e1e')) & 0x40ffffff;
  }

  static legend(colorBy: ColorBy, domains: { id: number; name: string }[]): LegendItem[] {
    if (colorBy === 'type')
      return TYPE_LEGEND.map(([label, v, f]) => ({ label, cssColor: `var(${v}, ${f})` }));
    const items = domains.map((d, i) => {
      const [v, f] = OWNER_COLORS[i % OWNER_COLORS.length]!;
      return { label: `${d.name} (${d.id})`, cssColor: `var(${v}, ${f})` };
    });
    return [
      { label: 'free', cssColor: 'var(--vscode-editor-background)' },
      ...items,
      { label: 'Xen', cssColor: 'var(--vscode-descriptionForeground)' },
    ];
  }

  /** The packed colour of a frame; `ownerSlot` maps a domain id to its legend position. */
  color(
    colorBy: ColorBy,
    type: number,
    owner: number,
    flags: number,
    ownerSlot: Map<number, number>,
  ): number {
    if (owner === DOMID_XEN) return this.types[9]!;
    if (colorBy === 'owner') {
      if (owner === 0) return flags & FRAME_SHADOW ? this.types[8]! : this.types[0]!;
      return this.owners[(ownerSlot.get(owner) ?? owner) % this.owners.length]!;
    }
    if (flags & FRAME_SHADOW) return this.types[8]!;
    if (owner === 0) return this.types[0]!;
    if (type >= 1 && type <= 5) return this.types[type + 1]!;
    if (type === 7) return this.types[7]!;
    return this.types[1]!;
  }

  private pack(css: string): number {
    this.ctx.clearRect(0, 0, 1, 1);
    this.ctx.fillStyle = css;
    this.ctx.fillRect(0, 0, 1, 1);
    const [r, g, b] = this.ctx.getImageData(0, 0, 1, 1).data;
    return ((255 << 24) | (b! << 16) | (g! << 8) | r!) >>> 0;
  }
}
