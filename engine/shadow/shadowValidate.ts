/**
 * R5.3: validation of an emulated write (`validate_guest_pt_write` → `sh_validate_guest_entry` →
 * `sh_map_and_validate_gl1e/gl2e/gl3e/gl4e` → `validate_gl1e/gl2e/gl3e/gl4e`, multi.c and hvm.c).
 * For each shadow type the frame has, in Xen's order L1, L2, L3, L4, the shadow entry at the index
 * of each overlapped guest entry is rewritten from the new guest entry, using an existing
 * next-level shadow and making none.
 */
import type { ShadowTypeName } from '../events/eventTypes';
import type { Vcpu } from '../machine/vcpu';
import { PTE_P, PTE_PS, entryFrame, joinEntry } from '../paging/pte';
import { resyncAll, updateSnapshot } from './outOfSync';
import type { ShadowContext } from './shadowContext';
import { superpageBase } from './shadowCreate';
import { leafTarget } from './shadowFacts';
import type { EntryHalves } from './shadowPropagate';
import { guestEntryReserved, propagateL1, propagateUpper } from './shadowPropagate';
import { shadowSetL1, shadowSetUpper } from './shadowSet';
import type { ShadowPage, ShadowType } from './shadowTypes';
import { SHADOW_LEVEL } from './shadowTypes';
import { unshadowCaused } from './unshadow';

export interface ValidationResult {
  readonly validated: { type: ShadowTypeName; index: number; entry: bigint }[];
  /** SHADOW_SET_FLUSH: every vCPU's TLB was flushed. */
  readonly flush: boolean;
}

const VALIDATION_ORDER: readonly ShadowType[] = ['l1', 'l2', 'l3', 'l4'];

/** Validates guest entries `first … last` of frame `gfn` into each of its shadows. */
export function validateGuestPtWrite(
  ctx: ShadowContext,
  v: Vcpu,
  gfn: number,
  first: number,
  last: number,
): ValidationResult {
  const validated: ValidationResult['validated'] = [];
  let flush = false;
  let error = false;
  const gmfn = ctx.gfnToMfn(gfn);
  for (const type of VALIDATION_ORDER) {
    for (let index = first; index <= last; index++) {
      const sp = ctx.hash.lookup(gfn, type);
      if (sp === undefined) break;
      const lo = ctx.memory.readLo(gmfn, index);
      const hi = ctx.memory.readHi(gmfn, index);
      let next: EntryHalves;
      if (type === 'l1') {
        next = propagateL1(lo, hi, leafTarget(ctx, lo, hi, false));
        shadowSetL1(ctx, sp, index, next);
        if (ctx.isOutOfSync(gfn)) updateSnapshot(ctx, gfn, index, lo, hi);
      } else {
        const child = childShadow(ctx, v, sp, lo, hi);
        if (child === 'error') error = true;
        next = propagateUpper(
          SHADOW_LEVEL[type],
          lo,
          hi,
          child === 'error' || child === undefined ? -1 : child.smfn,
        );
        if (shadowSetUpper(ctx, sp, index, next)) flush = true;
      }
      validated.push({ type, index, entry: joinEntry(next[0], next[1]) });
    }
  }
  if (flush) ctx.flushAllTlbs();
  if (error) unshadowCaused(ctx, gfn, false, 'bad_entry');
  return { validated, flush };
}

/** The existing next-level shadow a new upper guest entry names; 'error' for an unbacked table. */
function childShadow(
  ctx: ShadowContext,
  v: Vcpu,
  table: ShadowPage,
  lo: number,
  hi: number,
): ShadowPage | undefined | 'error' {
  if ((lo & PTE_P) === 0) return undefined;
  const level = SHADOW_LEVEL[table.type];
  if (level === 2 && (lo & PTE_PS) !== 0) return ctx.hash.lookup(superpageBase(lo, hi), 'fl1');
  // validate_gl4e/gl3e/gl2e look the named gfn up in the p2m before anything else looks at the
  // entry's bits, so a present entry naming memory that is not RAM is an error even when it has
  // reserved bits (an L3 PS entry, R3.9), and an existing shadow of the named frame resyncs.
  const gfn = entryFrame(lo, hi);
  if (ctx.gfnToMfn(gfn) < 0) return 'error';
  const child = ctx.hash.lookup(gfn, level === 4 ? 'l3' : level === 3 ? 'l2' : 'l1');
  // validate_gl4e / validate_gl3e: naming a frame that has the next-level shadow resyncs everything.
  if (child !== undefined && level >= 3) resyncAll(ctx, v, 'new_upper');
  // _sh_propagate then gives an empty entry for reserved bits (R4.4).
  return guestEntryReserved(level, lo, hi) ? undefined : child;
}
