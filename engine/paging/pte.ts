/**
 * x86-64 page-table entry format (Intel SDM Vol. 3A §4.5, tables 4-15 … 4-20), as two 32-bit
 * halves so that the walker never needs BigInt:
 *
 *   bit   63   62..52   51..12          11..9  8  7      6  5  4    3    2   1   0
 *         NX   avail    frame address   avail  G  PS/PAT D  A  PCD  PWT  US  RW  P
 *
 * `lo` holds bits 31..0, `hi` bits 63..32: NX is bit 31 of `hi`; the frame number is
 * `(hi & 0xfffff) * 2^20 + (lo >>> 12)`.
 */

export const PTE_P = 0x1;
export const PTE_RW = 0x2;
export const PTE_US = 0x4;
export const PTE_PWT = 0x8;
export const PTE_PCD = 0x10;
export const PTE_A = 0x20;
export const PTE_D = 0x40;
export const PTE_PS = 0x80;
export const PTE_G = 0x100;
/** NX as a bit of the high half. */
export const PTE_HI_NX = 0x80000000;

export const PF_P = 0x1;
export const PF_W = 0x2;
export const PF_U = 0x4;
export const PF_RSVD = 0x8;
export const PF_I = 0x10;

export const NX_BIT = 1n << 63n;

const TWO_20 = 0x100000;

/** Frame number named by an entry (bits 51..12). */
export function entryFrame(lo: number, hi: number): number {
  return (hi & 0xfffff) * TWO_20 + (lo >>> 12);
}

export function entryFrameBig(value: bigint): number {
  return Number((value >> 12n) & 0xff_ffff_ffffn);
}

export function splitEntry(value: bigint): [lo: number, hi: number] {
  return [Number(value & 0xffffffffn), Number((value >> 32n) & 0xffffffffn)];
}

export function joinEntry(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** The flag letters of an entry, for explanations and views: `P RW US A D PS G NX` as set. */
export function describeFlags(value: bigint): string {
  const names: string[] = [];
  const bits: [bigint, string][] = [
    [1n, 'P'],
    [2n, 'RW'],
    [4n, 'US'],
    [8n, 'PWT'],
    [0x10n, 'PCD'],
    [0x20n, 'A'],
    [0x40n, 'D'],
    [0x80n, 'PS'],
    [0x100n, 'G'],
    [NX_BIT, 'NX'],
  ];
  for (const [bit, name] of bits) if (value & bit) names.push(name);
  return names.join('|') || '0';
}

/** Error-code bits written `P|W|U|RSVD|I` (events.md §5). */
export function describeErrorCode(code: number): string {
  const parts: string[] = [];
  if (code & PF_P) parts.push('P');
  if (code & PF_W) parts.push('W');
  if (code & PF_U) parts.push('U');
  if (code & PF_RSVD) parts.push('RSVD');
  if (code & PF_I) parts.push('I');
  return parts.join('|') || '0';
}
