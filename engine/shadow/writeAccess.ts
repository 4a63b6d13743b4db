/**
 * R5.1 and R5.4: writable mappings of a guest frame in the shadows (`sh_remove_write_access`,
 * `sh_remove_write_access_from_sl1p`, common.c). A frame is write-protected when no present shadow
 * L1/fl1 entry — nor its unpaged-map entry — maps it with RW.
 *
 * Xen finds the mappings through the frame's writable type count and guesses where they are; the
 * model scans every L1/fl1 shadow. The outcome is the same: every such entry loses RW.
 */
import { PTE_P, PTE_RW, entryFrame } from '../paging/pte';
import type { ShadowContext } from './shadowContext';
import { isMagicMmio } from './shadowPropagate';
import { SHADOW_LEVEL } from './shadowTypes';

/**
 * `sh_remove_write_access`: nothing to do for a shadowed frame that is not out of sync; otherwise
 * every writable mapping loses RW and, if one did, every vCPU's TLB is flushed (flag `wrmap`).
 * Returns whether an entry changed.
 */
export function shRemoveWriteAccess(ctx: ShadowContext, gfn: number): boolean {
  if (ctx.hash.isShadowed(gfn) && !ctx.isOutOfSync(gfn)) return false;
  return removeAllWriteMappings(ctx, gfn);
}

/** Clears RW in every mapping of the frame, without the early exit (resync's use). */
export function removeAllWriteMappings(ctx: ShadowContext, gfn: number): boolean {
  const mfn = ctx.gfnToMfn(gfn);
  if (mfn < 0) return false;
  let changed = ctx.unpaged.removeWriteAccess(gfn);
  const memory = ctx.memory;
  for (const sp of ctx.hash.all()) {
    if (SHADOW_LEVEL[sp.type] !== 1) continue;
    const words = memory.frameWords(sp.smfn);
    for (let i = 0; i < 512; i++) {
      const lo = words[i << 1];
      if ((lo & (PTE_P | PTE_RW)) !== (PTE_P | PTE_RW)) continue;
      const hi = words[(i << 1) | 1];
      if (entryFrame(lo, hi) !== mfn || isMagicMmio(lo, hi)) continue;
      memory.writeEntry(sp.smfn, i, lo & ~PTE_RW, hi);
      changed = true;
    }
  }
  if (changed) {
    ctx.flushAllTlbs();
    ctx.flags.add('wrmap');
  }
  return changed;
}

/** `sh_remove_write_access_from_sl1p`: RW off one recorded mapping, if it still maps the frame. */
export function removeWriteAccessFromSl1p(
  ctx: ShadowContext,
  gfn: number,
  smfn: number,
  index: number,
): boolean {
  const sp = ctx.hash.page(smfn);
  if (sp === undefined || SHADOW_LEVEL[sp.type] !== 1) return false;
  const lo = ctx.memory.readLo(smfn, index);
  const hi = ctx.memory.readHi(smfn, index);
  if ((lo & (PTE_P | PTE_RW)) !== (PTE_P | PTE_RW) || isMagicMmio(lo, hi)) return false;
  if (entryFrame(lo, hi) !== ctx.gfnToMfn(gfn)) return false;
  ctx.memory.writeEntry(smfn, index, lo & ~PTE_RW, hi);
  return true;
}

/** R5.4 `write_protected(PFN)`: no shadow entry maps the frame with RW (vacuously true). */
export function isWriteProtected(ctx: ShadowContext, gfn: number): boolean {
  if (ctx.unpaged.mapsWritable(gfn)) return false;
  const mfn = ctx.gfnToMfn(gfn);
  if (mfn < 0) return true;
  const memory = ctx.memory;
  for (const sp of ctx.hash.all()) {
    if (SHADOW_LEVEL[sp.type] !== 1) continue;
    const words = memory.frameWords(sp.smfn);
    for (let i = 0; i < 512; i++) {
      const lo = words[i << 1];
      if ((lo & (PTE_P | PTE_RW)) !== (PTE_P | PTE_RW)) continue;
      const hi = words[(i << 1) | 1];
      if (entryFrame(lo, hi) === mfn && !isMagicMmio(lo, hi)) return false;
    }
  }
  return true;
}
