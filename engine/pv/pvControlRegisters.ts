/**
 * Control registers and `invlpg` in a PV guest (xen-semantics.md §8). A PV kernel runs in ring 3:
 * every `mov crN` traps to Xen's privileged-op emulator, which emulates CR0.TS, the guest's CR4
 * bits and CR3 (through `new_guest_cr3`) and refuses everything else with the original #GP.
 * A refused `mov cr3` may leave a partly validated table parked on the vCPU (R8.1a).
 */
import type { CrWriteFields } from '../events/eventTypes';
import type { ControlRegister } from '../language/host';
import { clearFault, raiseGeneralProtection } from '../machine/guestFaults';
import type { PvContext, PvVcpu } from './pvContext';
import { rcValue } from './pvContext';
import { newGuestCr3 } from './mmuextOps';
import { ownedFrame } from './mmuUpdate';
import { PAGE_NAMES, partialChain } from './pageRefs';
import type { Reason } from './refusalExplanations';
import { describeOwner, errnoName, explainOperationRefusal, hex } from './refusalExplanations';

export const PV_CR0 = 0x80050033n;
const CR0_TS = 0x8n;
export const PV_CR4_VISIBLE = 0x660n;
const CR4_GUEST_MASK = 0x5000cn;

export function readPvCr(v: PvVcpu, reg: ControlRegister): bigint {
  if (reg === 0) return PV_CR0 | (v.ts ? CR0_TS : 0n);
  if (reg === 3) return BigInt(v.kernelBase) << 12n;
  return PV_CR4_VISIBLE | BigInt(v.cr4Guest);
}

function crWrite(
  reg: ControlRegister,
  old: bigint,
  value: bigint,
  ok: boolean,
  flush: boolean,
  explanation: string,
): CrWriteFields & { explanation: string } {
  return {
    class: 'cr_write',
    reg,
    old,
    value,
    ok,
    intercepted: true,
    mode_change: false,
    shadow_made: null,
    tlb_flush: flush ? 'all' : 'none',
    explanation,
  };
}

function refuseMov(
  ctx: PvContext,
  v: PvVcpu,
  mark: number,
  reg: ControlRegister,
  old: bigint,
  value: bigint,
  what: string,
  chain: string,
  cause: 'privileged' | 'cr_check',
  rule: string,
): void {
  ctx.insertAt(mark, crWrite(reg, old, value, false, false, `${what} \u2014 ${chain}: #GP`));
  ctx.flushEvents();
  raiseGeneralProtection(ctx.machine.log, v.vcpu, { access: null, va: null, cause, rule, what, chain });
}

export function movCrPv(ctx: PvContext, v: PvVcpu, reg: ControlRegister, value: bigint): void {
  const old = readPvCr(v, reg);
  const mark = ctx.mark;
  const rule = reg === 0 ? 'R8.2' : reg === 3 ? 'R8.1' : 'R8.3';
  if (v.vcpu.user) {
    refuseMov(
      ctx,
      v,
      mark,
      reg,
      old,
      value,
      `mov cr${reg}, ${hex(value)} in user mode would write a control register, but the emulator refuses every control-register move at CPL 3`,
      'pv_emulate_privileged_op',
      'privileged',
      rule,
    );
    return;
  }
  if (reg === 0) {
    if (((value ^ PV_CR0) & ~CR0_TS) !== 0n) {
      refuseMov(
        ctx,
        v,
        mark,
        reg,
        old,
        value,
        `mov cr0, ${hex(value)} would change bits other than TS, but a PV guest's CR0 is Xen's ${hex(PV_CR0)} apart from TS`,
        'pv_emulate_privileged_op \u2192 write_cr',
        'cr_check',
        rule,
      );
      return;
    }
    v.ts = (value & CR0_TS) !== 0n;
    ctx.insertAt(
      mark,
      crWrite(
        0,
        old,
        value,
        true,
        false,
        `mov cr0, ${hex(value)} sets the guest's TS to ${v.ts ? 1 : 0} \u2014 write_cr \u2192 do_fpu_taskswitch`,
      ),
    );
  } else if (reg === 4) {
    v.cr4Guest = Number(value & CR4_GUEST_MASK);
    ctx.insertAt(
      mark,
      crWrite(
        4,
        old,
        value,
        true,
        false,
        `mov cr4, ${hex(value)} keeps the guest-controllable bits ${hex(v.cr4Guest)} \u2014 write_cr \u2192 pv_fixup_guest_cr4`,
      ),
    );
  } else {
    const m = value >> 12n;
    const mfn = ownedFrame(ctx, m, v.domain.id);
    if (mfn < 0) {
      const what = `mov cr3, ${hex(value)} would load mfn ${hex(m)}, but ${m < BigInt(ctx.ft.frameCount) ? describeOwner(ctx, Number(m)) : `mfn ${hex(m)} does not exist`}`;
      ctx.emit({
        class: 'refusal',
        rule: 'R8.1',
        xen_function: 'write_cr',
        rc: rcValue(-22),
        frame: null,
        entry: null,
        target: null,
        explanation: `${what} \u2014 write_cr \u2192 get_page_from_gfn: #GP`,
      });
      refuseMov(ctx, v, mark, 3, old, value, what, 'write_cr \u2192 get_page_from_gfn', 'cr_check', rule);
      return;
    }
    ctx.reason = null;
    const rc = newGuestCr3(ctx, v, m, 'mov_cr3');
    if (rc !== 0) {
      const r = ctx.reason as Reason | null;
      const place = `mov cr3, ${hex(value)}`;
      const text =
        r === null
          ? `${place} would load mfn ${hex(m)}, but it is refused (${errnoName(rc)}) \u2014 new_guest_cr3: #GP`
          : explainOperationRefusal(r, place, `load mfn ${hex(m)} and validate it as an L4`, '#GP');
      if (v.oldGuestTable >= 0) {
        v.pending = true;
        for (const c of partialChain(ctx, v.oldGuestTable)) {
          ctx.emit({
            class: 'partial_validation',
            mfn: c.mfn,
            type: PAGE_NAMES[c.type],
            index: c.index,
            state: 'pending',
            explanation: `mfn ${hex(c.mfn)} stays partly validated as ${PAGE_NAMES[c.type]} up to entry ${c.index}: its tear-down waits for this vCPU's next mmu_update, mmuext or mov cr3 \u2014 new_guest_cr3 \u2192 old_guest_table`,
          });
        }
      }
      if (r !== null) {
        ctx.emit({
          class: 'refusal',
          rule: r.rule,
          xen_function: r.chain[0],
          rc: rcValue(rc),
          frame: r.frame,
          entry: r.entry,
          target: r.target,
          explanation: text,
        });
      }
      const what = text.split(' \u2014 ')[0];
      refuseMov(
        ctx,
        v,
        mark,
        3,
        old,
        value,
        what,
        r === null
          ? 'write_cr \u2192 new_guest_cr3'
          : `write_cr \u2192 new_guest_cr3 \u2192 ${r.chain.join(' \u2192 ')}`,
        'cr_check',
        rule,
      );
      return;
    }
    ctx.insertAt(
      mark,
      crWrite(
        3,
        old,
        value,
        true,
        true,
        `mov cr3, ${hex(value)} loads L4 mfn ${hex(m)} as the kernel base pointer and flushes the TLB \u2014 write_cr \u2192 new_guest_cr3`,
      ),
    );
  }
  syncRegisters(v);
  ctx.flushEvents();
  clearFault(v.vcpu);
}

/** R8.4: Xen does not emulate `invlpg` for a PV guest. */
export function invlpgPv(ctx: PvContext, v: PvVcpu, va: bigint): void {
  ctx.flushEvents();
  raiseGeneralProtection(ctx.machine.log, v.vcpu, {
    access: null,
    va: null,
    cause: 'privileged',
    rule: 'R8.4',
    what: `invlpg ${hex(va)} would drop a TLB entry, but a PV guest runs in ring 3 and Xen does not emulate invlpg (use mmuext invlpg_local)`,
    chain: 'pv_emulate_privileged_op',
  });
}

/** Keeps the architectural registers of the vCPU in step with what they read as. */
export function syncRegisters(v: PvVcpu): void {
  v.vcpu.state.cr0 = readPvCr(v, 0);
  v.vcpu.state.cr3 = readPvCr(v, 3);
  v.vcpu.state.cr4 = readPvCr(v, 4);
}
