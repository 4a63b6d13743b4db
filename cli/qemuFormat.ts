/**
 * The x86-64 output of QEMU's monitor commands `info tlb` and `info mem`, byte for byte, as
 * target/i386/monitor.c prints them (print_pte, mem_print and addr_canonical; QEMU 8.0 – 9.2, where
 * the format is HWADDR_FMT_plx = "%016" PRIx64 — the same "%016" PRIx64 that older releases spelled
 * TARGET_FMT_plx, so the output has not changed since 5-level paging support was added):
 *
 *   info tlb, per page:  ADDR: PHYS XGPDACTUW
 *     ADDR the virtual address sign-extended by addr_canonical, PHYS the leaf entry under the mask of
 *     its size; the nine letters are the leaf entry's bits NX, G, PS, D, A, PCD, PWT, US, RW, each a
 *     '-' when clear. A 4 KiB entry is printed with PS cleared (bit 7 of a PTE is PAT).
 *   info mem, per run:   START-END SIZE URW
 *     a maximal run of addresses with the same rights (U and RW ANDed over the levels), 'u' or '-',
 *     always 'r', 'w' or '-'. START, END and even SIZE go through addr_canonical, so a size with bit
 *     47 set prints sign-extended, and a run that ends at the top of the address space ends at
 *     0001000000000000 (the flush at 1 << 48 has bit 47 clear).
 */
import type { Leaf, PagingLevels } from './mappingTree';
import { PAGES_PER_ENTRY } from './mappingTree';

const TWO_32 = 0x1_0000_0000;

/** "%016" PRIx64 of the value hi · 2^32 + lo. */
export function plx(hi: number, lo: number): string {
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

/** "%016" PRIx64 of a non-negative integer below 2^64 that a number holds exactly. */
export function plxNumber(n: number): string {
  return plx(Math.floor(n / TWO_32), n % TWO_32);
}

/**
 * addr_canonical then "%016" PRIx64: with LA57 bit 56 is copied into bits 63..57, else bit 47 into
 * bits 63..48. `raw` is below 2^57 and exact (page-aligned addresses and their differences are).
 */
export function canonicalPlx(raw: number, levels: PagingLevels): string {
  let hi = Math.floor(raw / TWO_32);
  if (levels === 5) {
    if (hi & 0x01000000) hi |= 0xfe000000;
  } else if (hi & 0x8000) hi |= 0xffff0000;
  return plx(hi, raw % TWO_32);
}

/** The canonical 64-bit virtual address of a raw one, as a bigint. */
export function canonicalBig(raw: number, levels: PagingLevels): bigint {
  const v = BigInt(raw);
  const sign = levels === 5 ? 56n : 47n;
  return (v >> sign) & 1n ? v | ((1n << 64n) - (1n << (sign + 1n))) : v;
}

/** One line of `info tlb`. */
export function tlbLine(leaf: Leaf, levels: PagingLevels): string {
  // tlb_info_la48 prints a PTE as `pte & ~PG_PSE_MASK`; PDPTEs and PDEs keep their PS.
  const lo = leaf.level === 1 ? leaf.lo & ~0x80 : leaf.lo;
  const hi = leaf.hi;
  const flags =
    (hi & 0x80000000 ? 'X' : '-') +
    (lo & 0x100 ? 'G' : '-') +
    (lo & 0x80 ? 'P' : '-') +
    (lo & 0x40 ? 'D' : '-') +
    (lo & 0x20 ? 'A' : '-') +
    (lo & 0x10 ? 'C' : '-') +
    (lo & 0x08 ? 'T' : '-') +
    (lo & 0x04 ? 'U' : '-') +
    (lo & 0x02 ? 'W' : '-');
  return `${canonicalPlx(leaf.vpn * 4096, levels)}: ${plxNumber(leaf.pa)} ${flags}`;
}

/**
 * `info mem`: fed the pages in walk order (pages filtered out count as unmapped), it prints a run
 * whenever the rights change — what mem_print does when called at the start of every entry, since
 * unmapped entries there carry rights 0.
 */
export class MemPrinter {
  private start = -1;
  private lastProt = 0;
  /** Raw end of the last page fed. */
  private end = 0;

  constructor(
    private readonly levels: PagingLevels,
    private readonly emit: (line: string) => void,
  ) {}

  add(leaf: Leaf): void {
    const va = leaf.vpn * 4096;
    if (va > this.end) this.print(this.end, 0);
    this.print(va, 1 | (leaf.writable ? 2 : 0) | (leaf.user ? 4 : 0));
    this.end = va + PAGES_PER_ENTRY[leaf.level] * 4096;
  }

  /** Flushes the last run, as the flush at 1 << 48 (1 << 57 with LA57) does. */
  finish(): void {
    this.print(this.end, 0);
    this.print(this.levels === 5 ? 2 ** 57 : 2 ** 48, 0);
  }

  private print(end: number, prot: number): void {
    if (prot === this.lastProt) return;
    if (this.start !== -1) {
      const c = (n: number) => canonicalPlx(n, this.levels);
      const u = this.lastProt & 4 ? 'u' : '-';
      const w = this.lastProt & 2 ? 'w' : '-';
      this.emit(`${c(this.start)}-${c(end)} ${c(end - this.start)} ${u}r${w}`);
    }
    this.start = prot !== 0 ? end : -1;
    this.lastProt = prot;
  }
}
