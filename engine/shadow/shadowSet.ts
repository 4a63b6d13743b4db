/**
 * Writing one shadow entry (`shadow_set_l4e` … `shadow_set_l1e`, xen/arch/x86/mm/shadow/set.c):
 * the only place shadow entries change, so references (R3.5), L3 pinning (R3.4a), the `l2_install`
 * resync (R6.5), OOS writable-mapping records (R6.1) and the SHADOW_SET_FLUSH decision (R5.3) are
 * kept in one place.
 */
import { PTE_P, PTE_RW, entryFrame } from '../paging/pte';
import { oosFixupAdd, resyncPage } from './outOfSync';
import type { ShadowContext } from './shadowContext';
import type { EntryHalves } from './shadowPropagate';
import { isMagicMmio, permsStrictlyIncreased } from './shadowPropagate';
import type { ShadowPage } from './shadowTypes';
import { upEntry } from './shadowTypes';

/**
 * An L4/L3/L2 entry of shadow `table`. Returns whether the change needs a TLB flush
 * (SHADOW_SET_FLUSH: the old entry was present and the new one names another shadow or does not
 * strictly add rights).
 */
export function shadowSetUpper(
  ctx: ShadowContext,
  table: ShadowPage,
  index: number,
  next: EntryHalves,
): boolean {
  const memory = ctx.memory;
  const oldLo = memory.readLo(table.smfn, index);
  const oldHi = memory.readHi(table.smfn, index);
  const [lo, hi] = next;
  if (oldLo === lo && oldHi === hi) return false;
  if ((lo & PTE_P) !== 0) {
    const child = ctx.hash.page(entryFrame(lo, hi));
    if (child === undefined)
      throw new Error(`shadow entry names smfn ${entryFrame(lo, hi)}, which is no shadow`);
    ctx.getRef(child, upEntry(table.smfn, index));
    if (table.type === 'l4' && ctx.l3Pinning) ctx.pin(child);
    if (table.type === 'l2' && child.type === 'l1' && ctx.isOutOfSync(child.gfn))
      resyncPage(ctx, child.gfn, 'l2_install');
  }
  memory.writeEntry(table.smfn, index, lo, hi);
  if ((oldLo & PTE_P) === 0) return false;
  const oldSmfn = entryFrame(oldLo, oldHi);
  const flush = oldSmfn !== entryFrame(lo, hi) || !permsStrictlyIncreased(oldLo, oldHi, lo, hi);
  const old = ctx.hash.page(oldSmfn);
  if (old !== undefined) ctx.putRef(old, upEntry(table.smfn, index));
  return flush;
}

/** An L1/fl1 entry: never a flush (flushing after an L1 change is the guest's job). */
export function shadowSetL1(ctx: ShadowContext, table: ShadowPage, index: number, next: EntryHalves): void {
  const [lo, hi] = next;
  if ((lo & (PTE_P | PTE_RW)) === (PTE_P | PTE_RW) && !isMagicMmio(lo, hi)) {
    const gfn = ctx.domain.mfnToPfn(entryFrame(lo, hi));
    if (gfn >= 0 && ctx.isOutOfSync(gfn)) oosFixupAdd(ctx, gfn, table.smfn, index);
  }
  ctx.memory.writeEntry(table.smfn, index, lo, hi);
}
