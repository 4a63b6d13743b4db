/**
 * Decoding a long-mode page-table entry for display. Entries arrive as hex strings and become
 * `bigint` here only for the bit arithmetic.
 *
 *   63   62..52  51..12        11..9  8  7   6  5  4   3   2  1  0
 *   NX   avail   frame number  avail  G  PS  D  A  PCD PWT US RW P
 *
 * PS means a large page at L2 (2 MiB) and L3 (1 GiB); at L1 bit 7 is PAT and is shown as such.
 */
import type { Hex, TableLevel } from '../protocol';

const BITS: [bigint, string][] = [
  [1n, 'P'],
  [2n, 'RW'],
  [4n, 'US'],
  [8n, 'PWT'],
  [0x10n, 'PCD'],
  [0x20n, 'A'],
  [0x40n, 'D'],
  [0x80n, 'PS'],
  [0x100n, 'G'],
  [1n << 63n, 'NX'],
];
const FRAME_MASK = 0x000f_ffff_ffff_f000n;

export interface DecodedEntry {
  value: bigint;
  present: boolean;
  /** A large page (PS at L2/L3): the entry maps memory instead of naming a table. */
  leaf: boolean;
  frame: number;
  flags: string[];
}

export function parseHex(text: string): bigint | null {
  const t = text.trim().replace(/_/g, '');
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(t)) return null;
  const v = BigInt(t);
  return v <= 0xffff_ffff_ffff_ffffn ? v : null;
}

export function toHex(value: bigint | number): Hex {
  return `0x${value.toString(16)}`;
}

export function decodeEntry(entry: Hex, level: TableLevel): DecodedEntry {
  const value = BigInt(entry);
  const flags = BITS.filter(([bit]) => (value & bit) !== 0n).map(([bit, name]) =>
    bit === 0x80n && level === 1 ? 'PAT' : name,
  );
  const present = (value & 1n) !== 0n;
  const leaf = level === 1 || ((level === 2 || level === 3) && (value & 0x80n) !== 0n);
  return { value, present, leaf, frame: Number((value & FRAME_MASK) >> 12n), flags };
}

/** Bytes one entry of a table at `level` maps: 4K, 2M, 1G, 512G. */
export function entrySpan(level: TableLevel): bigint {
  return 1n << BigInt(12 + 9 * (level - 1));
}

/** Sign-extends bit 47, as x86-64 canonical addresses are. */
export function canonical(va: bigint): bigint {
  return va & (1n << 47n) ? va | 0xffff_0000_0000_0000n : va;
}

/** The VA range `[start, end]` entry `index` covers in a table at `level` whose first byte maps `base`. */
export function entryRange(base: bigint, level: TableLevel, index: number): [bigint, bigint] {
  const span = entrySpan(level);
  const start = canonical(base + BigInt(index) * span);
  return [start, start + span - 1n];
}

export function tableIndex(va: bigint, level: TableLevel): number {
  return Number((va >> BigInt(12 + 9 * (level - 1))) & 0x1ffn);
}
