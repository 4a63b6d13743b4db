/**
 * §4: the shadow fault (`sh_page_fault`, multi.c), in Xen's order. The hardware's walk of the shadows
 * refused an access; Xen walks the guest's tables for it:
 * - the guest's tables forbid it → the guest gets its own #PF (`propagate`, R4.2);
 * - a magic MMIO entry in a synced shadow → the fast MMIO path (R1.2);
 * - otherwise A/D in the guest entries, write access removed from the walked tables, shadows made,
 *   unsync, the leaf propagated, prefetch (R4.3 steps 1–7), then emulation (a write to a shadowed
 *   table, or any supervisor write while the guest's CR0.WP is clear), the user-mode unshadow, MMIO,
 *   or a `fixup` after which the hardware retries the access.
 */
import type { FaultEntryRef } from '../events/eventTypes';
import { GuestRuntimeError } from '../language/host';
import { clearFault, describeAccess, hex, raisePageFault } from '../machine/guestFaults';
import type { Vcpu } from '../machine/vcpu';
import { faultingLevel, describeStop } from '../hap/hapModel';
import { joinEntry } from '../paging/pte';
import type { Walk } from '../paging/walkTables';
import { tableIndex, toVa48 } from '../paging/virtualAddress';
import { resyncPage, shUnsync, updateSnapshot } from './outOfSync';
import type { ShadowContext } from './shadowContext';
import { guestEntryNow, shadowGetAndCreateL1e, shPrefetch } from './shadowCreate';
import { emulateWrite } from './shadowEmulate';
import { describeFixup, describeShadowStop } from './shadowExplanations';
import { gfnTarget, guestWalk, leafTarget, walkFrame } from './shadowFacts';
import type { ShadowAccess } from './shadowMmio';
import { completeMmio } from './shadowMmio';
import { isMagicMmio, magicMmioGfn, propagateFl1, propagateL1 } from './shadowPropagate';
import { shadowSetL1 } from './shadowSet';
import { shRemoveShadows } from './unshadow';
import { shRemoveWriteAccess } from './writeAccess';

/** `retry`: the hardware step runs again; `done`: the handler completed the piece (value for a read);
 *  `stop`: the access is over (a guest fault, or an emulated write that wrote every piece). */
export type FaultOutcome = { kind: 'retry' } | { kind: 'done'; value: bigint } | { kind: 'stop' };

const RETRY: FaultOutcome = { kind: 'retry' };
const STOP: FaultOutcome = { kind: 'stop' };

/** `sh_page_fault` for one piece whose shadow walk `hw` failed. */
export function shPageFault(ctx: ShadowContext, v: Vcpu, a: ShadowAccess, hw: Walk): FaultOutcome {
  ctx.beginTrap();
  const va48 = toVa48(a.addr);
  if (hw.cause === 'reserved' && hw.faultLevel === 1) {
    const l1 = hw.levels[3];
    const sp = ctx.hash.page(l1.mfn);
    if (isMagicMmio(l1.lo, l1.hi) && sp !== undefined && (sp.type === 'fl1' || !ctx.isOutOfSync(sp.gfn))) {
      return fastMmio(ctx, v, a, BigInt(magicMmioGfn(l1.lo, l1.hi)) * 4096n + (a.addr & 0xfffn));
    }
  }
  const write = a.kind === 'write';
  const adSet: { level: number; gfn: number; index: number; bits: bigint }[] = [];
  let gw: Walk;
  for (;;) {
    gw = guestWalk(ctx, v, va48, a.kind, true);
    if (!gw.ok) return propagateGuestFault(ctx, v, a, gw);
    for (const u of gw.adSet)
      adSet.push({ level: u.level, gfn: u.frame, index: u.index, bits: BigInt(u.bits) });
    // 3. gw_remove_write_accesses: an OOS L3/L2 is resynced and the walk restarts.
    let rewalk = false;
    for (const level of [3, 2]) {
      const gfn = walkFrame(gw, level);
      if (ctx.isOutOfSync(gfn)) {
        resyncPage(ctx, gfn, 'walk');
        rewalk = true;
      } else shRemoveWriteAccess(ctx, gfn);
    }
    if (gw.leafLevel === 1 && !ctx.isOutOfSync(walkFrame(gw, 1))) shRemoveWriteAccess(ctx, walkFrame(gw, 1));
    if (!rewalk) break;
  }
  // 4. shadows down to the L1/fl1.
  const sl1 = shadowGetAndCreateL1e(ctx, v, gw, va48, write);
  const target = gw.frame;
  const backed = ctx.gfnToMfn(target) >= 0;
  // 5. the first write fault to an L1-only table puts it out of sync.
  if (write && backed && ctx.hash.isShadowed(target)) shUnsync(ctx, v, target);
  // 6. the leaf.
  const index = tableIndex(va48, 1);
  if (gw.leafLevel === 1) {
    const [lo, hi] = guestEntryNow(ctx, gw, 1);
    shadowSetL1(ctx, sl1, index, propagateL1(lo, hi, leafTarget(ctx, lo, hi, write)));
    const l1gfn = walkFrame(gw, 1);
    if (ctx.isOutOfSync(l1gfn)) updateSnapshot(ctx, l1gfn, index, lo, hi);
  } else {
    shadowSetL1(ctx, sl1, index, propagateFl1(target, gfnTarget(ctx, target, write)));
  }
  // 7. prefetch.
  shPrefetch(ctx, gw, sl1, index);
  if (!backed) return slowMmio(ctx, v, a, BigInt(target) * 4096n + (a.addr & 0xfffn));
  // 8. writes to tables are emulated, or at CPL 3 unshadow the table.
  if (write && ctx.hash.isShadowed(target) && !(ctx.isOutOfSync(target) && !a.user)) {
    if (a.user) return userModeUnshadow(ctx, v, gw, target);
    emulateWrite(ctx, v, a, 'pt_write', gw);
    return STOP;
  }
  // 9. the guest's CR0.WP is clear: Xen emulates every faulting supervisor write.
  if (write && !a.user && !ctx.guestWp(v)) {
    emulateWrite(ctx, v, a, 'wp', gw);
    return STOP;
  }
  // 10. fixed up: the hardware retries.
  ctx.vcpuState(v).lastEmulatedGfn = -1;
  const flags = (['promote', 'wrmap', 'unsync', 'oos_evict'] as const).filter((f) => ctx.flags.has(f));
  ctx.machine.log.append({
    class: 'fixup',
    va: a.addr,
    access: a.kind,
    cpl: a.user ? 3 : 0,
    gfn: target,
    made: ctx.made,
    ad_set: adSet,
    flags,
    sl1_index: index,
    explanation: describeFixup({
      access: a.kind,
      va: a.addr,
      gfn: target,
      made: ctx.made,
      adCount: adSet.length,
      unsync: ctx.flags.has('unsync'),
      sl1Index: index,
      pagingOff: false,
      shadowStop: describeShadowStop(hw, a.kind, a.user),
    }),
  });
  ctx.flushPending();
  return RETRY;
}

/** R4.2: the guest walk failed — the guest gets its #PF, preceded by `propagate`. */
export function propagateGuestFault(ctx: ShadowContext, v: Vcpu, a: ShadowAccess, gw: Walk): FaultOutcome {
  ctx.vcpuState(v).lastEmulatedGfn = -1;
  const what = describeAccess(a.kind, a.addr);
  const chain = 'sh_page_fault → sh_walk_guest_tables → guest_walk_tables';
  let place: string;
  let entry: FaultEntryRef | null = null;
  // The level of the entry that stopped the walk (events.md `fault`): for a protection fault the
  // entry that lacks the right, which may sit above the leaf.
  let level = gw.faultLevel;
  if (gw.cause === 'unbacked_table') {
    place = `its L${gw.faultLevel} table, gfn ${hex(gw.unbackedFrame ?? 0)}, is not RAM`;
  } else {
    const stop = faultingLevel(gw, a.kind, a.user, ctx.guestWp(v));
    entry = { mfn: stop.mfn, gfn: stop.frame, index: stop.index, value: joinEntry(stop.lo, stop.hi) };
    place = describeStop(gw.cause, stop, a.kind, a.user);
    level = stop.level;
  }
  const log = ctx.machine.log;
  log.append({
    class: 'propagate',
    va: a.addr,
    access: a.kind,
    cpl: a.user ? 3 : 0,
    error_code: BigInt(gw.errorCode),
    level,
    reason: gw.cause ?? 'not_present',
    explanation: `${what} faulted: ${place} — ${chain}: #PF`,
  });
  ctx.flushPending();
  raisePageFault(log, v, {
    addr: a.addr,
    code: gw.errorCode,
    access: a.kind,
    va: a.va,
    cause: gw.cause ?? 'not_present',
    level,
    entry,
    rule: gw.cause === 'unbacked_table' ? 'R1.3' : 'R4.2',
    what: `${what} faulted: ${place}`,
    chain,
  });
  return STOP;
}

/** R1.2's slow path: the shadow was built (or its magic entry was in an OOS L1); now the null handler. */
function slowMmio(ctx: ShadowContext, v: Vcpu, a: ShadowAccess, gpa: bigint): FaultOutcome {
  const value = completeMmio(ctx, v, a, gpa, false);
  return a.kind === 'fetch' ? STOP : { kind: 'done', value };
}

/** R1.2's fast path: `mmio` first, then the emulator's own guest walk for the access. */
function fastMmio(ctx: ShadowContext, v: Vcpu, a: ShadowAccess, gpa: bigint): FaultOutcome {
  if (a.kind === 'fetch') {
    completeMmio(ctx, v, a, gpa, true);
    return STOP;
  }
  const gw = guestWalk(ctx, v, toVa48(a.addr), a.kind, true);
  if (!gw.ok) {
    ctx.vcpuState(v).lastEmulatedGfn = -1;
    ctx.machine.log.append({
      class: 'mmio',
      va: a.va,
      gpa,
      size: a.pieceSize,
      dir: a.kind,
      value: null,
      fast: true,
      explanation: `${describeAccess(a.kind, a.addr)} met a magic MMIO entry; the emulator's walk of the guest tables fails — sh_page_fault (fast MMIO path) → handle_mmio_with_translation`,
    });
    raisePageFault(ctx.machine.log, v, {
      addr: a.addr,
      code: gw.errorCode,
      access: a.kind,
      va: a.va,
      cause: gw.cause ?? 'not_present',
      level: gw.faultLevel,
      entry: null,
      rule: 'R1.2',
      what: `${describeAccess(a.kind, a.addr)} faulted in the emulator's walk of the guest tables`,
      chain: 'sh_page_fault → handle_mmio_with_translation → hvmemul_linear_to_phys',
    });
    return STOP;
  }
  const ramMfn = ctx.gfnToMfn(gw.frame);
  const value = completeMmio(ctx, v, a, gpa, true, ramMfn);
  clearFault(v);
  return { kind: 'done', value };
}

/**
 * R7.2: a CPL 3 write to a shadowed table is never emulated: the frame is unshadowed and the write
 * retried — unless the frame is a CR3 in use (Xen crashes the domain) or on the write's own walk
 * (Xen would retry for ever).
 */
function userModeUnshadow(ctx: ShadowContext, v: Vcpu, gw: Walk, target: number): FaultOutcome {
  const event = shRemoveShadows(ctx, target, false, 'user_mode');
  ctx.machine.log.append(event);
  ctx.flushPending();
  if (ctx.hash.isShadowed(target))
    ctx.crash(`user-mode write to page table gfn ${hex(target)} in use as CR3`);
  if ([3, 2, 1].some((level) => walkFrame(gw, level) === target)) {
    throw new GuestRuntimeError(
      `user-mode write to page table gfn ${hex(target)} on its own walk path: Xen would retry it for ever`,
    );
  }
  return RETRY;
}
