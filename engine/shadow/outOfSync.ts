/**
 * §6: out-of-sync L1s (xen/arch/x86/mm/shadow/oos.c). On the first write fault to a frame shadowed
 * only as an L1, Xen stops write-protecting it (`sh_unsync`): it snapshots the frame, lets the
 * guest write it directly through the faulting mapping, and brings the shadow back in step later
 * (`sh_resync`) by comparing the frame with the snapshot — on a CR3 write, a paging-mode change,
 * when the frame is met as an upper table or about to get another shadow, when an upper shadow
 * entry is written, or when the per-vCPU table of three (R6.2) needs its slot.
 *
 * Choice (R6.2): the table is indexed by gfn mod 3 rather than Xen's mfn mod 3, so that outcomes do
 * not depend on the allocator.
 */
import type { ResyncFields } from '../events/eventTypes';
import type { Vcpu } from '../machine/vcpu';
import { PTE_P } from '../paging/pte';
import type { ShadowContext } from './shadowContext';
import { describeResync, describeSyncOnly } from './shadowExplanations';
import { leafTarget } from './shadowFacts';
import { propagateL1 } from './shadowPropagate';
import { shadowSetL1 } from './shadowSet';
import { OOS_FIXUPS, OOS_PAGES, upSmfn } from './shadowTypes';
import { removeAllWriteMappings, removeWriteAccessFromSl1p } from './writeAccess';

export type ResyncTrigger = ResyncFields['trigger'];

export interface OosFixup {
  readonly smfn: number;
  readonly index: number;
}

/** One slot of a vCPU's OOS table: the frame, its snapshot (1024 words) and its writable mappings. */
export interface OosSlot {
  gfn: number;
  snapshot: Uint32Array;
  fixups: (OosFixup | null)[];
  next: number;
}

interface SlotRef {
  readonly vcpu: number;
  readonly index: number;
  readonly slot: OosSlot;
}

export function outOfSyncSlot(ctx: ShadowContext, gfn: number): SlotRef | null {
  for (let vi = 0; vi < ctx.vcpus.length; vi++) {
    const table = ctx.vcpus[vi].oos;
    for (let i = 0; i < OOS_PAGES; i++) {
      const slot = table[i];
      if (slot !== null && slot.gfn === gfn) return { vcpu: vi, index: i, slot };
    }
  }
  return null;
}

/** `sh_unsync`: R6.1's conditions, then the frame joins this vCPU's table. Returns whether it did. */
export function shUnsync(ctx: ShadowContext, v: Vcpu, gfn: number): boolean {
  if (!ctx.hash.isL1Only(gfn) || ctx.isOutOfSync(gfn) || !ctx.oosActive()) return false;
  oosHashAdd(ctx, v, gfn);
  ctx.flags.add('unsync');
  return true;
}

/** `oos_hash_add` with its one second chance (R6.2). */
function oosHashAdd(ctx: ShadowContext, v: Vcpu, gfn: number): void {
  const vi = v.index;
  const table = ctx.vcpus[vi].oos;
  const home = gfn % OOS_PAGES;
  const added: OosSlot = {
    gfn,
    snapshot: new Uint32Array(1024),
    fixups: new Array<OosFixup | null>(OOS_FIXUPS).fill(null),
    next: 0,
  };
  let carry = added;
  let target = home;
  const occupant = table[home];
  if (occupant !== null && occupant.gfn % OOS_PAGES === home) {
    table[home] = added;
    carry = occupant;
    target = (home + 1) % OOS_PAGES;
  }
  const crushed = table[target];
  if (crushed !== null && crushed !== added) syncSlot(ctx, vi, target, 'evict');
  table[target] = carry;
  added.snapshot.set(ctx.memory.frameWords(ctx.gfnToMfn(gfn)));
}

/** `oos_fixup_add`: records a writable mapping of an OOS frame; a third evicts the oldest's RW. */
export function oosFixupAdd(ctx: ShadowContext, gfn: number, smfn: number, index: number): void {
  const ref = outOfSyncSlot(ctx, gfn);
  if (ref === null) return;
  const slot = ref.slot;
  if (slot.fixups.some((f) => f !== null && f.smfn === smfn && f.index === index)) return;
  const old = slot.fixups[slot.next];
  if (old !== null) {
    ctx.flags.add('oos_evict');
    removeWriteAccessFromSl1p(ctx, gfn, old.smfn, old.index);
  }
  slot.fixups[slot.next] = { smfn, index };
  slot.next = (slot.next + 1) % OOS_FIXUPS;
}

/** Keeps the snapshot in step when the model itself rewrites a shadow entry of an OOS L1. */
export function updateSnapshot(ctx: ShadowContext, gfn: number, index: number, lo: number, hi: number): void {
  const ref = outOfSyncSlot(ctx, gfn);
  if (ref === null) return;
  ref.slot.snapshot[index << 1] = lo;
  ref.slot.snapshot[(index << 1) | 1] = hi;
}

/** `oos_hash_remove`: leaves the table without a resync (the frame lost its last shadow). */
export function oosRemove(ctx: ShadowContext, gfn: number): void {
  const ref = outOfSyncSlot(ctx, gfn);
  if (ref !== null) ctx.vcpus[ref.vcpu].oos[ref.index] = null;
}

/** `sh_resync` of one frame. */
export function resyncPage(ctx: ShadowContext, gfn: number, trigger: ResyncTrigger): void {
  const ref = outOfSyncSlot(ctx, gfn);
  if (ref !== null) syncSlot(ctx, ref.vcpu, ref.index, trigger);
}

/** `shadow_resync_all`: the vCPU's own frames first, then every other vCPU's. */
export function resyncAll(ctx: ShadowContext, v: Vcpu, trigger: ResyncTrigger): void {
  resyncVcpu(ctx, v.index, trigger);
  for (let vi = 0; vi < ctx.vcpus.length; vi++) if (vi !== v.index) resyncVcpu(ctx, vi, trigger);
}

/** `shadow_resync_current_vcpu`. */
export function resyncVcpu(ctx: ShadowContext, vi: number, trigger: ResyncTrigger): void {
  for (let i = 0; i < OOS_PAGES; i++) if (ctx.vcpus[vi].oos[i] !== null) syncSlot(ctx, vi, i, trigger);
}

/** `_sh_resync` → `sh_resync_l1` (R6.5), then the slot is freed. */
function syncSlot(ctx: ShadowContext, vi: number, index: number, trigger: ResyncTrigger): void {
  const slot = ctx.vcpus[vi].oos[index]!;
  const gfn = slot.gfn;
  for (const f of slot.fixups) if (f !== null) removeWriteAccessFromSl1p(ctx, gfn, f.smfn, f.index);
  removeAllWriteMappings(ctx, gfn);
  ctx.flushAllTlbs();
  const entries = resyncL1(ctx, slot);
  ctx.vcpus[vi].oos[index] = null;
  ctx.emitCaused({
    class: 'resync',
    gfn,
    trigger,
    entries,
    explanation: describeResync(gfn, trigger, entries),
  });
}

/**
 * `sh_resync_l1`: every present entry of the frame's L1 shadow whose guest entry differs from the
 * snapshot is rewritten from the guest (not as a demand write) and the snapshot follows. Returns the
 * indexes rewritten.
 */
function resyncL1(ctx: ShadowContext, slot: OosSlot): number[] {
  const entries: number[] = [];
  const sl1 = ctx.hash.lookup(slot.gfn, 'l1');
  if (sl1 === undefined) return entries;
  const guest = ctx.memory.frameWords(ctx.gfnToMfn(slot.gfn));
  const shadow = ctx.memory.frameWords(sl1.smfn);
  const snap = slot.snapshot;
  for (let i = 0; i < 512; i++) {
    if ((shadow[i << 1] & PTE_P) === 0) continue;
    const lo = guest[i << 1];
    const hi = guest[(i << 1) | 1];
    if (lo === snap[i << 1] && hi === snap[(i << 1) | 1]) continue;
    shadowSetL1(ctx, sl1, i, propagateL1(lo, hi, leafTarget(ctx, lo, hi, false)));
    snap[i << 1] = lo;
    snap[(i << 1) | 1] = hi;
    entries.push(i);
  }
  return entries;
}

/**
 * `shadow_sync_other_vcpus` (end of `sh_update_cr3`, R6.5): the other vCPUs' OOS frames get their
 * shadows updated from the guest but stay out of sync — no write-access removal, no flush — except a
 * frame `sh_safe_not_to_sync` proves unreachable from this vCPU's new top-level shadow. Logged as
 * `resync` with trigger `cr3` (Xen's TRC_SHADOW_RESYNC_ONLY record).
 */
export function syncOtherVcpus(ctx: ShadowContext, v: Vcpu): void {
  for (let vi = 0; vi < ctx.vcpus.length; vi++) {
    if (vi === v.index) continue;
    for (const slot of ctx.vcpus[vi].oos) {
      if (slot === null || safeNotToSync(ctx, v, slot.gfn)) continue;
      const entries = resyncL1(ctx, slot);
      ctx.emitCaused({
        class: 'resync',
        gfn: slot.gfn,
        trigger: 'cr3',
        entries,
        explanation: describeSyncOnly(slot.gfn, entries),
      });
    }
  }
}

/**
 * `sh_safe_not_to_sync`: the frame's L1 shadow has one reference, recorded by its up-pointer, from an
 * L2 shadow with one reference from an unpinned L3 shadow with one reference from an L4 shadow that is
 * not the one `v` runs on. Only then can no TLB entry of `v` come through it. While L3 shadows are
 * pinned (R3.4a) they have no up-pointer, so this never holds.
 */
function safeNotToSync(ctx: ShadowContext, v: Vcpu, gfn: number): boolean {
  let sp = ctx.hash.lookup(gfn, 'l1');
  for (const type of ['l1', 'l2', 'l3'] as const) {
    if (sp === undefined || sp.type !== type || sp.refs !== 1 || sp.up === 0) return false;
    if (type === 'l3' && (sp.pinned || !ctx.hasUpPointer('l3'))) return false;
    const parent = upSmfn(sp.up);
    if (type === 'l3') return parent !== ctx.vcpuState(v).top;
    sp = ctx.hash.page(parent);
  }
  return false;
}
