/**
 * Updating one entry of a table in use (xen-semantics.md R5.4, R5.5, R9.2): `mod_l1_entry` …
 * `mod_l4_entry`. The new entry's references are taken before the old entry's are released, so
 * replacing an entry with one for the same frame never drops a count to 0 in between; an entry
 * that differs from the old one only in harmless bits takes the fast path and touches no count.
 * A refused update stores nothing.
 */
import { PTE_A, PTE_D, PTE_P, joinEntry } from '../paging/pte';
import type { EngineEvent } from '../events/eventTypes';
import type { EventContext, PackedEventDecoder } from '../events/eventLog';
import { registerPackedDecoder } from '../events/eventLog';
import type { PvContext } from './pvContext';
import { EINVAL, entryHolder } from './pvContext';
import { describeFlags } from '../paging/pte';
import { hex, refuse, wrapReason } from './refusalExplanations';
import {
  adjustL1Hi,
  adjustL1Lo,
  adjustUpperLo,
  entryMfn,
  getPageFromL1e,
  getPageFromUpperEntry,
  isExternal,
  isXenL4Slot,
  L1_DISALLOW_LO,
  putPageFromL1e,
  putPageFromUpperEntry,
  UPPER_DISALLOW_LO,
} from './validateTables';

/** Bits compared by the fast paths: the address and the flags outside the whitelists. */
const L1_CHANGE_LO = 0xfffff09b;
const PDE_CHANGE_LO = 0xfffff19b;
const CHANGE_HI = 0xfffff;
const TWO_20 = 0x100000;

export const MMU_NORMAL_PT_UPDATE = 0;
export const MMU_PT_UPDATE_PRESERVE_AD = 2;
export const MMU_PT_UPDATE_NO_TRANSLATE = 3;

/** What an `entry_update` may name as its path and function, numbered for the packed event. */
const UPDATE_PATHS = ['fast', 'full', 'plain_write'] as const;
const UPDATE_FUNCTIONS = [
  null,
  'mod_l1_entry',
  'ptwr_emulated_update',
  'mod_l2_entry',
  'mod_l3_entry',
  'mod_l4_entry',
] as const;

/** A packed `entry_update`: mfn, level (−1: none), index, old and new halves, path × 8 + function. */
const decodeEntryUpdate: PackedEventDecoder = (
  c: EventContext,
  f: Float64Array,
  at: number,
): EngineEvent => ({
  step: c.step,
  domain: c.domain,
  vcpu: c.vcpu,
  line: c.line,
  class: 'entry_update',
  mfn: f[at],
  gfn: null,
  level: f[at + 1] < 0 ? null : f[at + 1],
  index: f[at + 2],
  old: joinEntry(f[at + 3], f[at + 4]),
  new: joinEntry(f[at + 5], f[at + 6]),
  path: UPDATE_PATHS[f[at + 7] >> 3],
  xen_function: UPDATE_FUNCTIONS[f[at + 7] & 7],
});

const ENTRY_UPDATE = registerPackedDecoder(decodeEntryUpdate);

function logUpdate(
  ctx: PvContext,
  mfn: number,
  level: number | null,
  index: number,
  olo: number,
  ohi: number,
  nlo: number,
  nhi: number,
  path: (typeof UPDATE_PATHS)[number],
  fn: (typeof UPDATE_FUNCTIONS)[number],
): void {
  if (!ctx.entryEvents) return;
  const code = UPDATE_PATHS.indexOf(path) * 8 + UPDATE_FUNCTIONS.indexOf(fn);
  ctx.emitPacked(ENTRY_UPDATE, mfn, level ?? -1, index, olo >>> 0, ohi >>> 0, nlo >>> 0, nhi >>> 0, code);
}

/**
 * `mod_l1_entry` (R5.4, R5.7) — or, with `fastPath` false, the update of `ptwr_emulated_update`
 * (R9.2). `pgOwner` is the domain whose frames the entry may map (`foreign=`), `ptOwner` the table's.
 */
export function modL1Entry(
  ctx: PvContext,
  l1: number,
  index: number,
  nloIn: number,
  nhiIn: number,
  cmd: number,
  ptOwner: number,
  pgOwner: number,
  fastPath = true,
): number {
  const mem = ctx.mem;
  const fn = fastPath ? 'mod_l1_entry' : 'ptwr_emulated_update';
  const words = mem.frameWords(l1);
  const olo = words[index << 1];
  const ohi = words[(index << 1) | 1];
  let nlo = nloIn;
  let nhi = nhiIn;
  const preserveAd = cmd === MMU_PT_UPDATE_PRESERVE_AD;
  let path: 'fast' | 'full' = 'full';
  if ((nlo & PTE_P) !== 0) {
    if ((nlo & L1_DISALLOW_LO) !== 0) {
      return refuse(
        ctx,
        -EINVAL,
        'R3.1',
        // R14.2's chain for a flag-mask refusal (Xen tests the mask in mod_lN_entry and again in
        // get_page_from_lNe; the contract names both).
        [fn, 'get_page_from_l1e'],
        `set ${describeFlags(BigInt(nlo & L1_DISALLOW_LO))}`,
        'L1_DISALLOW_MASK forbids it',
        { mfn: l1, level: 1, index, value: joinEntry(nlo >>> 0, nhi >>> 0) },
        l1,
        null,
      );
    }
    if (cmd !== MMU_PT_UPDATE_NO_TRANSLATE && isExternal(ctx, pgOwner)) {
      // R5.7: the frame number is a gfn of the HVM domain; translate it through its p2m.
      const gfn = entryMfn(nlo, nhi);
      const m = ctx.domain(pgOwner)?.pfnToMfn(gfn) ?? -1;
      if (m < 0) {
        return refuse(
          ctx,
          -EINVAL,
          'R5.7',
          [fn, 'get_page_from_gfn'],
          `map gfn ${hex(gfn)} of domain ${pgOwner}`,
          `domain ${pgOwner} has no such gfn`,
          { mfn: l1, level: 1, index, value: joinEntry(nlo >>> 0, nhi >>> 0) },
          l1,
          null,
        );
      }
      nlo = ((nlo & 0xfff) | ((m % TWO_20) << 12)) >>> 0;
      nhi = ((nhi & ~CHANGE_HI) | Math.floor(m / TWO_20)) >>> 0;
    }
    if (fastPath && ((olo ^ nlo) & L1_CHANGE_LO) === 0 && ((ohi ^ nhi) & CHANGE_HI) === 0) {
      path = 'fast';
    } else {
      const rc = getPageFromL1e(ctx, nlo, nhi, l1, index, ptOwner, pgOwner, entryHolder(l1, 1, index));
      if (rc !== 0) {
        // events.md §5: a chain starts at the function owning the rule that refused. Through
        // mmu_update that is R3.3's get_page_from_l1e; through ptwr it is R9's ptwr_emulated_update.
        if (!fastPath) wrapReason(ctx, fn, null);
        return rc;
      }
    }
    const alo = adjustL1Lo(nlo, nhi);
    nhi = adjustL1Hi(nlo, nhi);
    nlo = alo;
  }
  if (preserveAd) nlo |= olo & (PTE_A | PTE_D);
  mem.writeEntry(l1, index, nlo >>> 0, nhi >>> 0);
  logUpdate(ctx, l1, 1, index, olo, ohi, nlo, nhi, path, fn);
  if (path === 'full') putPageFromL1e(ctx, olo, ohi, ptOwner, entryHolder(l1, 1, index));
  return 0;
}

/** `mod_l2_entry` … `mod_l4_entry` (R5.5, R3.7). */
export function modUpperEntry(
  ctx: PvContext,
  level: number,
  table: number,
  index: number,
  nloIn: number,
  nhiIn: number,
  preserveAd: boolean,
  d: number,
): number {
  const mem = ctx.mem;
  const fn = `mod_l${level as 2 | 3 | 4}_entry` as const;
  const value = (): bigint => joinEntry(nloIn >>> 0, nhiIn >>> 0);
  if (level === 4 && isXenL4Slot(index)) {
    return refuse(
      ctx,
      -EINVAL,
      'R3.7',
      [fn],
      'be written',
      'slots 256\u2013271 are reserved for Xen',
      { mfn: table, level, index, value: value() },
      table,
      null,
    );
  }
  const olo = mem.readLo(table, index);
  const ohi = mem.readHi(table, index);
  let nlo = nloIn;
  const nhi = nhiIn;
  let path: 'fast' | 'full' = 'full';
  if ((nlo & PTE_P) !== 0) {
    if ((nlo & UPPER_DISALLOW_LO) !== 0) {
      const mask = level === 3 ? 'l3_disallow_mask' : `L${level}_DISALLOW_MASK`;
      return refuse(
        ctx,
        -EINVAL,
        'R3.1',
        // R14.2's second example: 'mod_l2_entry → get_page_from_l2e: -EINVAL'.
        [fn, `get_page_from_l${level}e`],
        `set ${describeFlags(BigInt(nlo & UPPER_DISALLOW_LO))}`,
        `${mask} forbids it`,
        { mfn: table, level, index, value: value() },
        table,
        null,
      );
    }
    if (((olo ^ nlo) & PDE_CHANGE_LO) === 0 && ((ohi ^ nhi) & CHANGE_HI) === 0) {
      path = 'fast';
    } else {
      // A refusal here is R3.4's or R3.6's, and its chain starts at get_page_from_lNe (events.md §5).
      const rc = getPageFromUpperEntry(ctx, level, nlo, nhi, table, index, d);
      if (rc !== 0) return rc;
    }
    nlo = adjustUpperLo(level, nlo);
  }
  if (preserveAd) nlo |= olo & (PTE_A | PTE_D);
  mem.writeEntry(table, index, nlo >>> 0, nhi >>> 0);
  logUpdate(ctx, table, level, index, olo, ohi, nlo, nhi, path, fn);
  if (path === 'full') putPageFromUpperEntry(ctx, olo, ohi, table, entryHolder(table, level, index));
  return 0;
}

/** R5.3 steps 3–4: 8 bytes written as data into a frame that is not a table in use. */
export function plainWriteEntry(ctx: PvContext, mfn: number, index: number, lo: number, hi: number): void {
  const olo = ctx.mem.readLo(mfn, index);
  const ohi = ctx.mem.readHi(mfn, index);
  ctx.mem.writeEntry(mfn, index, lo >>> 0, hi >>> 0);
  logUpdate(ctx, mfn, null, index, olo, ohi, lo, hi, 'plain_write', null);
}
