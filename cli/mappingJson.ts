/**
 * `pagewalk mappings --format json`: the pages merged into ranges, each with every attribute.
 * Consecutive pages join a range when they are virtually and physically contiguous, of the same
 * size and alike in every attribute; a range never spans the non-canonical hole (the raw
 * addresses there are contiguous, the canonical ones are not).
 *
 * Attributes: `u`, `w` and `nx` are the effective rights — U and RW ANDed over every level, NX ORed
 * (EFER.NXE is assumed set: the dump does not record EFER) — while `g`, `ps`, `d`, `a`, `pcd` and
 * `pwt` are the leaf entry's bits (`ps` is false for a 4 KiB page, whose bit 7 is PAT).
 * Addresses and sizes are "0x…" strings, counts numbers (cli.md's convention for `run --json`).
 */
import { hex } from './guestImage';
import type { Leaf, PagingLevels } from './mappingTree';
import { PAGES_PER_ENTRY } from './mappingTree';
import { canonicalBig } from './qemuFormat';

export interface JsonRange {
  start: string;
  /** The last byte of the range (inclusive): an exclusive end could need 65 bits. */
  last: string;
  size: string;
  phys: string;
  page_size: number;
  pages: number;
  nx: boolean;
  g: boolean;
  ps: boolean;
  d: boolean;
  a: boolean;
  pcd: boolean;
  pwt: boolean;
  u: boolean;
  w: boolean;
}

interface Open {
  vpn: number;
  level: number;
  pa: number;
  pages: number;
  key: number;
  leaf: Leaf;
}

export class RangeBuilder {
  readonly ranges: JsonRange[] = [];
  private open: Open | null = null;

  constructor(private readonly levels: PagingLevels) {}

  add(leaf: Leaf): void {
    const key = attributeKey(leaf);
    const o = this.open;
    if (o !== null && o.level === leaf.level && o.key === key) {
      const span = PAGES_PER_ENTRY[leaf.level];
      const nextVpn = o.vpn + o.pages * span;
      const hole = 2 ** (this.levels === 5 ? 44 : 35); // first raw page with the sign bit set
      if (leaf.vpn === nextVpn && nextVpn !== hole && leaf.pa === o.pa + o.pages * span * 4096) {
        o.pages++;
        return;
      }
    }
    this.flush();
    this.open = { vpn: leaf.vpn, level: leaf.level, pa: leaf.pa, pages: 1, key, leaf };
  }

  finish(): JsonRange[] {
    this.flush();
    return this.ranges;
  }

  private flush(): void {
    const o = this.open;
    if (o === null) return;
    this.open = null;
    const pageSize = PAGES_PER_ENTRY[o.level] * 4096;
    const size = BigInt(pageSize) * BigInt(o.pages);
    const start = canonicalBig(o.vpn * 4096, this.levels);
    const lo = o.leaf.lo;
    this.ranges.push({
      start: hex(start),
      last: hex(start + size - 1n),
      size: hex(size),
      phys: hex(o.pa),
      page_size: pageSize,
      pages: o.pages,
      nx: o.leaf.nx,
      g: (lo & 0x100) !== 0,
      ps: o.level > 1 && (lo & 0x80) !== 0,
      d: (lo & 0x40) !== 0,
      a: (lo & 0x20) !== 0,
      pcd: (lo & 0x10) !== 0,
      pwt: (lo & 0x08) !== 0,
      u: o.leaf.user,
      w: o.leaf.writable,
    });
  }
}

/** The attributes a range must share, as one number. */
function attributeKey(leaf: Leaf): number {
  const own = leaf.lo & (0x100 | 0x80 | 0x40 | 0x20 | 0x10 | 0x08);
  return own | (leaf.nx ? 0x1000 : 0) | (leaf.user ? 0x2000 : 0) | (leaf.writable ? 0x4000 : 0);
}
