/**
 * R4.4: a shadow entry from its guest entry (`_sh_propagate` and its `l4e/l3e/l2e/l1e_propagate_from_guest`
 * wrappers, multi.c). Pure functions over the two 32-bit halves of an entry; the caller supplies the
 * facts about other frames (the next-level shadow, the p2m, whether the target is a table).
 *
 *   shadow entry           bits                                         from the guest
 *   upper (L4, L3, L2)     smfn | P RW US A D | NX                       P RW US A NX; A and D always set;
 *                                                                       P cleared while guest A is clear;
 *                                                                       RW cleared for a PS L2 with D clear
 *   leaf (L1, fl1 piece)   mfn | P RW US A | NX                         P RW US A NX (G PWT PCD D dropped);
 *                                                                       P cleared while A is clear,
 *                                                                       RW cleared while D is clear or the
 *                                                                       target is a shadowed table
 *   magic MMIO leaf        0xfffffff0_00000001 | gfn << 4 | RW US       the guest's RW and US (types.h
 *                                                                       `sh_l1e_mmio`); bits 46..51 set, so
 *                                                                       the hardware walk sees reserved bits
 */
import { MAX_PHYS_BITS } from '../machine/machine';
import { PTE_A, PTE_D, PTE_HI_NX, PTE_P, PTE_PS, PTE_RW, PTE_US, entryFrame } from '../paging/pte';

const TWO_20 = 0x100000;
const TWO_28 = 0x10000000;
/** Address bits MAX_PHYS_BITS..51 in the high half: reserved in a guest entry. */
const RSVD_HI = (0xfffff & ~((1 << (MAX_PHYS_BITS - 32)) - 1)) >>> 0;
const MAGIC_HI = 0xfffffff0;

/** A 64-bit entry as its halves; `[0, 0]` is the empty entry. */
export type EntryHalves = readonly [lo: number, hi: number];
export const EMPTY: EntryHalves = [0, 0];

/** Frame number → entry halves with flags. */
export function makeEntry(frame: number, flagsLo: number, hi: number): EntryHalves {
  return [((frame % TWO_20) * 4096 + flagsLo) >>> 0, (Math.floor(frame / TWO_20) | hi) >>> 0];
}

/** Reserved bits of a guest entry under shadow (`guest_l*e_rsvd_bits`; no 1 GiB pages, R3.9). */
export function guestEntryReserved(level: number, lo: number, hi: number): boolean {
  if ((hi & RSVD_HI) !== 0) return true;
  if ((lo & PTE_PS) === 0) return false;
  if (level === 4 || level === 3) return true;
  return level === 2 && (lo & 0x001fe000) !== 0;
}

/** Xen's magic MMIO shadow L1 entry for an unbacked gfn (`sh_l1e_mmio`). */
export function magicMmioEntry(gfn: number, guestLo: number): EntryHalves {
  return [
    ((gfn % TWO_28) * 16 + PTE_P + (guestLo & (PTE_RW | PTE_US))) >>> 0,
    (MAGIC_HI | Math.floor(gfn / TWO_28)) >>> 0,
  ];
}

export function isMagicMmio(lo: number, hi: number): boolean {
  return (hi & MAGIC_HI) >>> 0 === MAGIC_HI && (lo & 9) === 1;
}

/** The gfn a magic MMIO entry encodes (`sh_l1e_mmio_get_gfn`). */
export function magicMmioGfn(lo: number, hi: number): number {
  return (hi & 0xf) * TWO_28 + (lo >>> 4);
}

/**
 * An L4/L3/L2 shadow entry. `childSmfn` is the next-level shadow (an fl1 for a PS L2 entry), −1 when
 * there is none: then, as for a not-present guest entry or one with reserved bits, the shadow entry is
 * empty. An unbacked target is the caller's business (it has no shadow, so the result is empty).
 */
export function propagateUpper(level: number, lo: number, hi: number, childSmfn: number): EntryHalves {
  if ((lo & PTE_P) === 0 || guestEntryReserved(level, lo, hi) || childSmfn < 0) return EMPTY;
  let flags = (lo & (PTE_P | PTE_RW | PTE_US | PTE_A)) | PTE_A | PTE_D;
  if ((lo & PTE_A) === 0) flags &= ~PTE_P;
  if (level === 2 && (lo & PTE_PS) !== 0 && (lo & PTE_D) === 0) flags &= ~PTE_RW;
  return makeEntry(childSmfn, flags, hi & PTE_HI_NX);
}

/** What the leaf propagation needs to know about the target frame. */
export interface LeafTarget {
  /** Machine frame of the target gfn, −1 when unbacked. */
  readonly mfn: number;
  /** The target is a shadowed table (R3.2). */
  readonly shadowed: boolean;
  /** It is shadowed but out of sync and this is R4.3's demand write: it stays writable. */
  readonly oosDemandWrite: boolean;
}

/** A guest L1 entry → shadow L1 entry (`l1e_propagate_from_guest`). */
export function propagateL1(lo: number, hi: number, target: LeafTarget): EntryHalves {
  if (guestEntryReserved(1, lo, hi) || (lo & PTE_P) === 0) return EMPTY;
  return propagateLeaf(entryFrame(lo, hi), lo, hi & PTE_HI_NX, target);
}

/** The 4K piece `gfn` of a guest superpage → fl1 entry: full rights, the L2 entry holds the rest. */
export function propagateFl1(gfn: number, target: LeafTarget): EntryHalves {
  return propagateLeaf(gfn, PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D, 0, target);
}

function propagateLeaf(gfn: number, lo: number, nx: number, target: LeafTarget): EntryHalves {
  if (target.mfn < 0) return magicMmioEntry(gfn, lo);
  let flags = lo & (PTE_P | PTE_RW | PTE_US | PTE_A);
  if ((lo & PTE_A) === 0) flags &= ~PTE_P;
  if ((lo & PTE_D) === 0) flags &= ~PTE_RW;
  if (target.shadowed && !target.oosDemandWrite) flags &= ~PTE_RW;
  return makeEntry(target.mfn, flags, nx);
}

/** Xen's `perms_strictly_increased`: NX counts as a missing X right; equal rights count as increased. */
export function permsStrictlyIncreased(oldLo: number, oldHi: number, newLo: number, newHi: number): boolean {
  const mask = PTE_P | PTE_RW | PTE_US;
  const of = (oldLo & mask) | ((oldHi & PTE_HI_NX) === 0 ? 8 : 0);
  const nf = (newLo & mask) | ((newHi & PTE_HI_NX) === 0 ? 8 : 0);
  return (of | (of ^ nf)) === nf;
}
