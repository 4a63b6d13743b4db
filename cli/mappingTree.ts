/**
 * Every mapped page of a guest's x86-64 page tables, in the order QEMU's `info tlb` prints them
 * (target/i386/monitor.c, tlb_info_la48 / tlb_info_la57): the tree is walked per level, entry 0 to
 * 511, so pages come in ascending raw (not yet sign-extended) virtual address. As there:
 *   - an entry is followed when P is set, whatever else it holds (reserved bits are not checked);
 *   - PS makes a leaf at the PDPT (1 GiB) and the PD (2 MiB) only; PS in a PML5E/PML4E is ignored;
 *   - table addresses are `entry & 0x3fffffffff000` (bits 49..12), leaf addresses the entry masked
 *     to its page size: 0x3fffffffff000, 0x3ffffffe00000, 0x3ffffc0000000.
 * Alongside, the effective rights of each page as `info mem` combines them (U and RW of every level
 * ANDed) and NX ORed over the levels, as the CPU applies it.
 *
 * Termination: the depth is fixed (4 or 5 levels), so even a table that names itself — the
 * recursive "self-map" — only makes more pages appear, as it does in QEMU. The work is bounded too:
 * a (table, level) whose subtree maps nothing is remembered and skipped when met again, so a table
 * is read again only when it maps something, and the walk stops after `maxPages` pages.
 */
import type { GuestImage } from './guestImage';
import { FRAME_SIZE } from './guestImage';

export type PagingLevels = 4 | 5;

export interface Leaf {
  /** Raw virtual page number: the address before sign extension, divided by 4096. */
  readonly vpn: number;
  /** 1 (4 KiB), 2 (2 MiB) or 3 (1 GiB). */
  readonly level: number;
  /** The leaf entry's two halves. */
  readonly lo: number;
  readonly hi: number;
  /** The leaf entry under QEMU's address mask for its size. */
  readonly pa: number;
  /** Effective rights: U and RW ANDed over every level, NX ORed. */
  readonly user: boolean;
  readonly writable: boolean;
  readonly nx: boolean;
}

/** A present entry naming a table the image does not hold. */
export interface MissingTable {
  /** Level of the missing table (3 = a PDPT …). */
  readonly level: number;
  readonly table: number;
  /** Physical address of the entry that names it. */
  readonly entryAddress: number;
  /** First raw virtual page the missing table would map. */
  readonly vpn: number;
}

export interface TreeWalk {
  readonly image: GuestImage;
  /** Physical address of the top table (CR3 & 0x3fffffffff000); the caller checks it is held. */
  readonly root: number;
  readonly levels: PagingLevels;
  readonly maxPages: number;
  onLeaf(leaf: Leaf): void;
  /** Called once per missing table address; QEMU would read it as zeros, and so does the walk. */
  onMissing(missing: MissingTable): void;
}

/** 4 KiB pages covered by one entry of a table at each level. */
export const PAGES_PER_ENTRY = [0, 1, 512, 512 ** 2, 512 ** 3, 512 ** 4];
export const LEVEL_NAMES = ['', 'PT', 'PD', 'PDPT', 'PML4', 'PML5'];

const TWO_32 = 0x1_0000_0000;
const P = 0x1;
const RW = 0x2;
const US = 0x4;
const PS = 0x80;
const NX_HI = 0x80000000;
/** Bits 49..32 of an address mask (QEMU's 0x3fffffffff000 and friends). */
const ADDR_HI = 0x3ffff;
const LEAF_LO_MASK = [0, 0xfffff000, 0xffe00000, 0xc0000000];

/** Walks the tree; returns false when it stopped at `maxPages`. */
export function walkTree(w: TreeWalk): boolean {
  const empty = new Set<number>();
  const reported = new Set<number>();
  let pages = 0;
  let stopped = false;

  const visit = (tablePa: number, level: number, vpnBase: number, u: boolean, rw: boolean, nx: boolean) => {
    const words = w.image.frameWords(tablePa / FRAME_SIZE);
    if (words === null) return;
    const span = PAGES_PER_ENTRY[level];
    for (let i = 0; i < 512 && !stopped; i++) {
      const lo = words[i << 1];
      const hi = words[(i << 1) | 1];
      if ((lo & P) === 0) continue;
      const vpn = vpnBase + i * span;
      const eu = u && (lo & US) !== 0;
      const erw = rw && (lo & RW) !== 0;
      const enx = nx || (hi & NX_HI) !== 0;
      if (level === 1 || ((level === 2 || level === 3) && (lo & PS) !== 0)) {
        const pa = (hi & ADDR_HI) * TWO_32 + ((lo & LEAF_LO_MASK[level]) >>> 0);
        w.onLeaf({ vpn, level, lo, hi, pa, user: eu, writable: erw, nx: enx });
        if (++pages >= w.maxPages) stopped = true;
        continue;
      }
      const child = (hi & ADDR_HI) * TWO_32 + ((lo & 0xfffff000) >>> 0);
      const childFrame = child / FRAME_SIZE;
      const key = childFrame * 8 + level - 1;
      if (empty.has(key)) continue;
      if (w.image.frameWords(childFrame) === null) {
        if (!reported.has(childFrame)) {
          reported.add(childFrame);
          w.onMissing({ level: level - 1, table: child, entryAddress: tablePa + i * 8, vpn });
        }
        continue;
      }
      const before = pages;
      visit(child, level - 1, vpn, eu, erw, enx);
      if (pages === before && !stopped) empty.add(key);
    }
  };

  visit(w.root, w.levels, 0, true, true, false);
  return !stopped;
}

/** The table address named by an entry, as QEMU masks it (bits 49..12). */
export function entryTable(lo: number, hi: number): number {
  return (hi & ADDR_HI) * TWO_32 + ((lo & 0xfffff000) >>> 0);
}
