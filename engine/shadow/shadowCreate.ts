/**
 * R3.6 lazy creation and R4.5 prefetch: `shadow_get_and_create_l1e` (with its l2e/l3e helpers) and
 * `sh_prefetch`, multi.c. Below the top level, shadows are made only by a shadow fault whose guest
 * walk succeeded: from L4 down, a shadow entry on the VA's path that is not present is written to
 * point at the next-level shadow of the frame the guest entry names, made if missing.
 */
import type { Vcpu } from '../machine/vcpu';
import { PTE_A, PTE_D, PTE_P, PTE_PS, PTE_RW, entryFrame } from '../paging/pte';
import type { Walk } from '../paging/walkTables';
import { tableIndex } from '../paging/virtualAddress';
import { resyncAll, updateSnapshot } from './outOfSync';
import type { ShadowContext } from './shadowContext';
import { gfnTarget, leafTarget } from './shadowFacts';
import { propagateFl1, propagateL1, propagateUpper } from './shadowPropagate';
import { shadowSetL1, shadowSetUpper } from './shadowSet';
import type { ShadowPage, ShadowType } from './shadowTypes';
import { PREFETCH_DISTANCE } from './shadowTypes';

/** The current value of the guest entry a walk read at `level` (after the walk's A/D update). */
export function guestEntryNow(ctx: ShadowContext, walk: Walk, level: number): [number, number] {
  const l = walk.levels[4 - level];
  return [ctx.memory.readLo(l.mfn, l.index), ctx.memory.readHi(l.mfn, l.index)];
}

/** The base gfn of the guest superpage a PS L2 entry maps (the fl1's hash key). */
export function superpageBase(lo: number, hi: number): number {
  const frame = entryFrame(lo, hi);
  return frame - (frame % 512);
}

/** `shadow_get_and_create_l1e`: the L1 (or fl1) shadow for the walk's VA. */
export function shadowGetAndCreateL1e(
  ctx: ShadowContext,
  v: Vcpu,
  walk: Walk,
  va48: number,
  demandWrite: boolean,
): ShadowPage {
  let table = ctx.hash.page(ctx.vcpuState(v).top)!;
  let newUpper = false;
  for (const level of [4, 3]) {
    const index = tableIndex(va48, level);
    const lo = ctx.memory.readLo(table.smfn, index);
    if ((lo & PTE_P) !== 0) {
      table = ctx.hash.page(entryFrame(lo, ctx.memory.readHi(table.smfn, index)))!;
      continue;
    }
    const type: ShadowType = level === 4 ? 'l3' : 'l2';
    const gfn = walk.levels[5 - level].frame;
    const child = ctx.hash.lookup(gfn, type) ?? ctx.makeShadow(gfn, type);
    const [glo, ghi] = guestEntryNow(ctx, walk, level);
    shadowSetUpper(ctx, table, index, propagateUpper(level, glo, ghi, child.smfn));
    newUpper = true;
    table = child;
  }
  const index = tableIndex(va48, 2);
  const lo = ctx.memory.readLo(table.smfn, index);
  const [glo, ghi] = guestEntryNow(ctx, walk, 2);
  const superpage = (glo & PTE_PS) !== 0;
  let l1: ShadowPage;
  if ((lo & PTE_P) !== 0 && (!demandWrite || (lo & PTE_RW) !== 0 || !superpage)) {
    l1 = ctx.hash.page(entryFrame(lo, ctx.memory.readHi(table.smfn, index)))!;
  } else {
    if (superpage) {
      const base = superpageBase(glo, ghi);
      l1 = ctx.hash.lookup(base, 'fl1') ?? ctx.makeShadow(base, 'fl1');
    } else {
      const gfn = walk.levels[3].frame;
      l1 = ctx.hash.lookup(gfn, 'l1') ?? ctx.makeShadow(gfn, 'l1');
    }
    shadowSetUpper(ctx, table, index, propagateUpper(2, glo, ghi, l1.smfn));
  }
  // All walked frames are tables now: safe to resync after L4/L3 shadow entries were written.
  if (newUpper) resyncAll(ctx, v, 'new_upper');
  return l1;
}

/** `sh_prefetch` (R4.5): up to 31 more entries after index `i`, stopping at the first non-empty one. */
export function shPrefetch(ctx: ShadowContext, walk: Walk, sl1: ShadowPage, i: number): void {
  const memory = ctx.memory;
  const last = Math.min(i + PREFETCH_DISTANCE - 1, 511);
  const fl1 = sl1.type === 'fl1';
  const l1 = fl1 ? null : walk.levels[3];
  const oos = l1 !== null && ctx.isOutOfSync(l1.frame);
  const shadow = memory.frameWords(sl1.smfn);
  const guest = l1 === null ? null : memory.frameWords(l1.mfn);
  for (let k = i + 1; k <= last; k++) {
    if (shadow[k << 1] !== 0 || shadow[(k << 1) | 1] !== 0) break;
    if (l1 === null) {
      shadowSetL1(ctx, sl1, k, propagateFl1(sl1.gfn + k, gfnTarget(ctx, sl1.gfn + k, false)));
      continue;
    }
    const lo = guest![k << 1];
    const hi = guest![(k << 1) | 1];
    if ((lo & PTE_P) === 0) {
      // A not-present guest entry gives the empty entry the shadow already holds.
      if (oos) updateSnapshot(ctx, l1.frame, k, lo, hi);
      continue;
    }
    if ((lo & PTE_A) === 0 || ((lo & PTE_RW) !== 0 && (lo & PTE_D) === 0)) break;
    shadowSetL1(ctx, sl1, k, propagateL1(lo, hi, leafTarget(ctx, lo, hi, false)));
    if (oos) updateSnapshot(ctx, l1.frame, k, lo, hi);
  }
}
