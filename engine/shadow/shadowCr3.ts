/**
 * Control-register writes of a shadowed vCPU (R2.1, R2.2, R2.5, R1.4, R3.3). Under shadow every CR3
 * write at CPL 0 is intercepted, and CR0/CR4 writes are intercepted exactly when they change the
 * register. A paging-mode change runs `sh_update_paging_modes` (resync every OOS page, then the CR3
 * update if paging stays on); a CR3 write with paging on runs `sh_update_cr3` with
 * `sh_set_toplevel_shadow`: resync this vCPU's OOS pages, remove write access to the new top
 * frame, make its L4 shadow if needed, pin it and run on it, flush the whole TLB.
 */
import type { ControlRegister } from '../language/host';
import {
  checkCr0Write,
  checkCr4Write,
  isCr4ModeChange,
  refuseCrWriteAtCpl3,
} from '../hvm/hvmControlRegisters';
import { clearFault, hex, raiseGeneralProtection } from '../machine/guestFaults';
import type { Vcpu } from '../machine/vcpu';
import { resyncAll, resyncVcpu, syncOtherVcpus } from './outOfSync';
import type { ShadowContext } from './shadowContext';
import { CR0_PG } from './shadowContext';
import { cr3Gfn } from './shadowFacts';
import { shRemoveWriteAccess } from './writeAccess';

/** `sh_update_cr3` (R3.3); returns the gfn whose L4 shadow it made, or null. */
export function shUpdateCr3(ctx: ShadowContext, v: Vcpu): number | null {
  resyncVcpu(ctx, v.index, 'cr3');
  const gfn = cr3Gfn(v);
  shRemoveWriteAccess(ctx, gfn);
  let made: number | null = null;
  let sp = ctx.hash.lookup(gfn, 'l4');
  if (sp === undefined) {
    sp = ctx.makeShadow(gfn, 'l4');
    made = gfn;
  }
  ctx.getRef(sp);
  ctx.pin(sp);
  releaseToplevel(ctx, v);
  ctx.vcpuState(v).top = sp.smfn;
  v.tlb.flushAll();
  syncOtherVcpus(ctx, v);
  return made;
}

/** The vCPU stops running on its top-level shadow (it stays pinned). */
function releaseToplevel(ctx: ShadowContext, v: Vcpu): void {
  const vs = ctx.vcpuState(v);
  if (vs.top < 0) return;
  const old = ctx.hash.page(vs.top);
  vs.top = -1;
  if (old !== undefined) ctx.putRef(old);
}

/** `sh_update_paging_modes` (R2.2); returns the gfn of an L4 shadow made, or null. */
function shUpdatePagingModes(ctx: ShadowContext, v: Vcpu): number | null {
  resyncAll(ctx, v, 'mode');
  let made: number | null = null;
  if (ctx.pagingOn(v)) made = shUpdateCr3(ctx, v);
  else releaseToplevel(ctx, v);
  v.tlb.flushAll();
  return made;
}

export function shadowMovCr(ctx: ShadowContext, v: Vcpu, reg: ControlRegister, value: bigint): void {
  const log = ctx.machine.log;
  const s = v.state;
  const old = reg === 0 ? s.cr0 : reg === 3 ? s.cr3 : s.cr4;
  const base = { class: 'cr_write' as const, reg, old, value };
  ctx.beginTrap();
  if (v.user) {
    refuseCrWriteAtCpl3(log, v, reg, old, value);
    return;
  }
  if (reg === 3) {
    const pagingOn = ctx.pagingOn(v);
    if (pagingOn) checkCr3Backed(ctx, value);
    s.cr3 = value;
    const made = pagingOn ? shUpdateCr3(ctx, v) : null;
    const what = pagingOn
      ? `mov cr3, ${hex(value)} is intercepted: gfn ${hex(cr3Gfn(v))} ${made === null ? 'already has an L4 shadow' : 'gets a new L4 shadow'}, pinned and loaded; the TLB is flushed`
      : `mov cr3, ${hex(value)} is intercepted with paging off: CR3 is only recorded`;
    const chain = pagingOn
      ? 'hvm_set_cr3 → paging_update_cr3 → sh_update_cr3 → sh_set_toplevel_shadow'
      : 'hvm_set_cr3';
    log.append({
      ...base,
      ok: true,
      intercepted: true,
      mode_change: false,
      shadow_made: made,
      tlb_flush: pagingOn ? 'all' : 'none',
      explanation: `${what} — ${chain}`,
    });
    ctx.flushPending();
    clearFault(v);
    return;
  }
  const fn = reg === 0 ? 'hvm_set_cr0' : 'hvm_set_cr4';
  if (value === old) {
    log.append({
      ...base,
      ok: true,
      intercepted: false,
      mode_change: false,
      shadow_made: null,
      tlb_flush: 'none',
      explanation: `mov cr${reg}, ${hex(value)} writes the value CR${reg} already holds: it runs in hardware and changes nothing — hardware`,
    });
    clearFault(v);
    return;
  }
  const pagingOn = ctx.pagingOn(v);
  const check = reg === 0 ? checkCr0Write(value, s.cr4) : checkCr4Write(value, pagingOn);
  if (!check.ok) {
    log.append({
      ...base,
      ok: false,
      intercepted: true,
      mode_change: false,
      shadow_made: null,
      tlb_flush: 'none',
      explanation: `mov cr${reg}, ${hex(value)} would load CR${reg}, but ${check.reason} — ${fn}: #GP`,
    });
    raiseGeneralProtection(log, v, {
      access: null,
      va: null,
      cause: 'cr_check',
      rule: 'R2.5',
      what: `mov cr${reg}, ${hex(value)} refused: ${check.reason}`,
      chain: fn,
    });
    return;
  }
  const next = check.value;
  const modeChange = reg === 0 ? ((old ^ next) & CR0_PG) !== 0n : isCr4ModeChange(old, next);
  if (reg === 0 && !pagingOn && (next & CR0_PG) !== 0n) checkCr3Backed(ctx, s.cr3);
  if (reg === 0) s.cr0 = next;
  else s.cr4 = next;
  const made = modeChange ? shUpdatePagingModes(ctx, v) : null;
  const effect = !modeChange
    ? ''
    : ctx.pagingOn(v)
      ? `; the paging mode changed: out-of-sync pages resynced, ${made === null ? 'the L4 shadow of CR3 reloaded' : `an L4 shadow made for gfn ${hex(made)}`}, every TLB entry flushed`
      : '; paging is off: the vCPU runs on the unpaged shadow, every TLB entry flushed';
  log.append({
    ...base,
    ok: true,
    intercepted: true,
    mode_change: modeChange,
    shadow_made: made,
    tlb_flush: modeChange ? 'all' : 'none',
    explanation: `mov cr${reg}, ${hex(value)} is intercepted and loaded as ${hex(next)}${effect} — ${fn}${modeChange ? ' → paging_update_paging_modes → sh_update_paging_modes' : ''}`,
  });
  ctx.flushPending();
  clearFault(v);
}

/** R1.4: a CR3 naming memory that is not RAM crashes the domain (`hvm_set_cr3` → `bad_cr3`). */
function checkCr3Backed(ctx: ShadowContext, cr3: bigint): void {
  const gfn = Number((cr3 >> 12n) & 0xff_ffff_ffffn);
  if (ctx.gfnToMfn(gfn) < 0) ctx.crash(`CR3 gfn ${hex(gfn)} is not RAM`);
}
