/**
 * §7: unshadowing a frame (`sh_remove_shadows`, common.c). Its shadow types are taken in Xen's order
 * L4, L3, L2, L1: an L4 shadow is unpinned (it lives on while a vCPU runs on it), an L3 shadow pinned
 * by R3.4a is unpinned, and every shadow entry pointing at an L3/L2/L1 shadow of the frame is
 * cleared so that the shadow dies (R3.5) with whatever only it referenced. A *fast* removal
 * (early unshadow, R7.3) only unpins a pinned L3. Every vCPU's TLB is flushed.
 *
 * Choice (R7.1): Xen clears only the parent entry its up-pointer records; the model clears all.
 */
import type { UnshadowFields } from '../events/eventTypes';
import { PTE_P, entryFrame } from '../paging/pte';
import type { ShadowContext } from './shadowContext';
import { describeUnshadow } from './shadowExplanations';
import { EMPTY } from './shadowPropagate';
import { shadowSetUpper } from './shadowSet';
import type { ShadowPage, ShadowType } from './shadowTypes';

export type UnshadowReason = UnshadowFields['reason'];

const PARENT_TYPE: Partial<Record<ShadowType, ShadowType>> = { l3: 'l4', l2: 'l3', l1: 'l2' };

/** Removes the frame's shadows and returns the `unshadow` event (the caller logs it in its place). */
export function shRemoveShadows(
  ctx: ShadowContext,
  gfn: number,
  fast: boolean,
  reason: UnshadowReason,
): UnshadowFields & { explanation: string } {
  const destroyed: { type: ShadowType; gfn: number }[] = [];
  const outer = ctx.destroyed;
  ctx.destroyed = destroyed;
  try {
    for (const sp of ctx.hash.shadowsOf(gfn)) {
      if (ctx.hash.lookup(gfn, sp.type) !== sp) continue;
      if (sp.type === 'l4') ctx.unpin(sp);
      else if (sp.type === 'l3' && sp.pinned) {
        ctx.unpin(sp);
        if (!fast && ctx.hash.lookup(gfn, 'l3') === sp) clearParentEntries(ctx, sp);
      } else clearParentEntries(ctx, sp);
    }
  } finally {
    ctx.destroyed = outer;
    outer?.push(...destroyed);
  }
  ctx.flushAllTlbs();
  return {
    class: 'unshadow',
    gfn,
    reason,
    removed: destroyed,
    explanation: describeUnshadow(gfn, reason, destroyed),
  };
}

/** Clears every present entry of the shadows one level up that points at `sp`. */
function clearParentEntries(ctx: ShadowContext, sp: ShadowPage): void {
  const parentType = PARENT_TYPE[sp.type];
  if (parentType === undefined) return;
  const parents = [...ctx.hash.all()].filter((p) => p.type === parentType);
  for (const parent of parents) {
    if (ctx.hash.page(parent.smfn) !== parent) continue;
    const words = ctx.memory.frameWords(parent.smfn);
    for (let i = 0; i < 512; i++) {
      const lo = words[i << 1];
      if ((lo & PTE_P) === 0 || entryFrame(lo, words[(i << 1) | 1]) !== sp.smfn) continue;
      shadowSetUpper(ctx, parent, i, EMPTY);
      if (ctx.hash.page(sp.smfn) !== sp) return;
    }
  }
}

/** An unshadow caused by an emulated write (R7.3, R7.4): logged after the trap's own event. */
export function unshadowCaused(ctx: ShadowContext, gfn: number, fast: boolean, reason: UnshadowReason): void {
  if (!ctx.hash.isShadowed(gfn)) return;
  ctx.emitCaused(shRemoveShadows(ctx, gfn, fast, reason));
}
