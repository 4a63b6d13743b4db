/**
 * Virtual addresses. Guest values are 64-bit `bigint`s; the walker and the TLB work on the low 48
 * bits as a plain number (`va48`), which is exact for every canonical address (bits 63..47 equal).
 */

const LOW48 = (1n << 48n) - 1n;
const TWO_32 = 0x1_0000_0000;

export function isCanonical(va: bigint): boolean {
  const top = va >> 47n;
  return top === 0n || top === 0x1ffffn;
}

export function toVa48(va: bigint): number {
  return Number(va & LOW48);
}

/** Sign-extends a 48-bit address back to its canonical 64-bit form. */
export function fromVa48(va48: number): bigint {
  const v = BigInt(va48);
  return v >= 1n << 47n ? v | 0xffff_0000_0000_0000n : v;
}

/** Index of `va48` in the table of `level` (1..4). */
export function tableIndex(va48: number, level: number): number {
  const lo = (va48 % TWO_32) >>> 0;
  const hi = Math.floor(va48 / TWO_32);
  switch (level) {
    case 1:
      return (lo >>> 12) & 511;
    case 2:
      return (lo >>> 21) & 511;
    case 3:
      return ((lo >>> 30) | (hi << 2)) & 511;
    default:
      return (hi >>> 7) & 511;
  }
}

/** Virtual page number (va48 >> 12), exact as a number. */
export function pageNumber(va48: number): number {
  return Math.floor(va48 / 4096);
}
