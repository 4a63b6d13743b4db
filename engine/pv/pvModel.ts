/**
 * The PV domain model: Xen's PV memory manager for one paravirtualised domain
 * (xen-semantics.md). It routes each statement of a vCPU to the file that owns its rules, logs the
 * statement's events in Xen's order, and sets the result registers.
 *
 * State: the frame table and memory belong to the machine (which snapshots them); this model
 * keeps each vCPU's base pointers, TLB-clock stamp, CR0.TS, guest CR4 bits and parked table, and
 * — shared by every PV domain of the machine — the TLB clock and the sparse per-frame fields
 * (`pvContext.ts`). `snapshot()` copies those small structures.
 */
import type { HypercallFields } from '../events/eventTypes';
import type {
  AccessSize,
  ControlRegister,
  MmuextOp,
  MmuUpdateRequest,
  PrivilegeMode,
} from '../language/host';
import { EvaluationError } from '../language/host';
import type { Domain } from '../machine/domain';
import type { DomainModel } from '../machine/domainModel';
import type { Machine, ModelFactory } from '../machine/machine';
import type { Vcpu } from '../machine/vcpu';
import type { PvContext, PvSharedSnapshot, PvVcpu, PvVcpuSnapshot } from './pvContext';
import { ENOSYS, pvContextOf, rcValue } from './pvContext';
import { decodeBatch, doMmuUpdate } from './mmuUpdate';
import { doMmuextOp } from './mmuextOps';
import { doUpdateVaMapping } from './updateVaMapping';
import { invlpgPv, movCrPv, PV_CR0, PV_CR4_VISIBLE, readPvCr, syncRegisters } from './pvControlRegisters';
import { accessGuest, peekGuest, translateVa } from './pvWalk';
import { errnoName, explainEntryRefusal, explainOperationRefusal, hex } from './refusalExplanations';
import { flushTlbNonGlobal } from './tlbClock';

interface PvModelSnapshot {
  readonly vcpus: PvVcpuSnapshot[];
  readonly shared: PvSharedSnapshot;
}

const PIN_LEVEL: Partial<Record<MmuextOp, number>> = {
  pin_l1_table: 1,
  pin_l2_table: 2,
  pin_l3_table: 3,
  pin_l4_table: 4,
};

export class PvModel implements DomainModel {
  readonly kind = 'pv' as const;
  readonly ctx: PvContext;
  readonly vcpus: PvVcpu[] = [];

  constructor(
    readonly machine: Machine,
    readonly domain: Domain,
  ) {
    this.ctx = pvContextOf(machine);
    for (let i = 0; i < domain.config.vcpus; i++) {
      const vcpu = machine.addVcpu(domain, { cr0: PV_CR0, cr3: 0n, cr4: PV_CR4_VISIBLE });
      this.vcpus.push({
        vcpu,
        domain,
        kernelBase: 0,
        userBase: 0,
        flushedAt: 0,
        ts: false,
        cr4Guest: 0,
        oldGuestTable: -1,
        pending: false,
      });
    }
    this.ctx.vcpusByDomain.set(domain.id, this.vcpus);
  }

  /** The PV state of a vCPU of this domain; makes it Xen's `current`. */
  private enter(v: Vcpu): PvVcpu {
    const pv = this.vcpus[v.index];
    this.ctx.current = pv;
    this.ctx.reason = null;
    return pv;
  }

  read(v: Vcpu, size: AccessSize, va: bigint): bigint {
    return accessGuest(this.ctx, this.enter(v), va, size, 'read');
  }

  write(v: Vcpu, size: AccessSize, va: bigint, value: bigint): void {
    accessGuest(this.ctx, this.enter(v), va, size, 'write', value);
  }

  fetch(v: Vcpu, va: bigint): void {
    accessGuest(this.ctx, this.enter(v), va, 1, 'fetch');
  }

  movCr(v: Vcpu, reg: ControlRegister, value: bigint): void {
    movCrPv(this.ctx, this.enter(v), reg, value);
  }

  invlpg(v: Vcpu, va: bigint): void {
    invlpgPv(this.ctx, this.enter(v), va);
  }

  setMode(v: Vcpu, mode: PrivilegeMode): void {
    const pv = this.enter(v);
    if (v.state.mode === mode) return;
    v.state.mode = mode;
    flushTlbNonGlobal(this.ctx, pv);
    this.ctx.flushEvents();
  }

  readCr(v: Vcpu, reg: ControlRegister): bigint {
    return readPvCr(this.vcpus[v.index], reg);
  }

  mmuUpdate(v: Vcpu, requests: readonly MmuUpdateRequest[], foreign: Domain | null): void {
    const pv = this.enter(v);
    const ctx = this.ctx;
    const batch = decodeBatch(requests);
    this.logCall('mmu_update', null, { requests: batch.args }, foreign?.name ?? null);
    if (v.user) {
      this.finishCall(pv, 'mmu_update', null, -ENOSYS, null, null);
      return;
    }
    const res = doMmuUpdate(ctx, pv, batch, foreign);
    if (res.rc !== 0) {
      const place = res.failedIndex === null ? 'mmu_update' : `request ${res.failedIndex} of mmu_update`;
      this.logRefusal(res.rc, (r, result) => explainEntryRefusal(r, place, result), place);
    }
    v.state.done = BigInt(res.done);
    this.finishCall(pv, 'mmu_update', null, res.rc, res.done, res.failedIndex);
  }

  mmuext(v: Vcpu, op: MmuextOp, arg: bigint): void {
    const pv = this.enter(v);
    this.logCall('mmuext', op, { arg }, null);
    if (v.user) {
      this.finishCall(pv, 'mmuext', op, -ENOSYS, null, null);
      return;
    }
    const rc = doMmuextOp(this.ctx, pv, op, arg);
    if (rc !== 0) {
      const place = `${op} of mfn ${hex(arg)}`;
      const level = PIN_LEVEL[op] ?? 4;
      this.logRefusal(
        rc,
        (r, result) => explainOperationRefusal(r, place, `validate it as an L${level}`, result),
        place,
      );
    }
    syncRegisters(pv);
    this.finishCall(pv, 'mmuext', op, rc, null, null);
  }

  updateVaMapping(v: Vcpu, va: bigint, val: bigint, flags: bigint): void {
    const pv = this.enter(v);
    this.logCall('update_va_mapping', null, { va, val, flags }, null);
    if (v.user) {
      this.finishCall(pv, 'update_va_mapping', null, -ENOSYS, null, null);
      return;
    }
    const rc = doUpdateVaMapping(this.ctx, pv, va, val, flags);
    if (rc !== 0) {
      const place = `update_va_mapping of ${hex(va)}`;
      this.logRefusal(rc, (r, result) => explainEntryRefusal(r, place, result), place);
    }
    this.finishCall(pv, 'update_va_mapping', null, rc, null, null);
  }

  translate(v: Vcpu, va: bigint): bigint {
    return translateVa(this.ctx, this.vcpus[v.index], va);
  }

  guestTranslate(v: Vcpu, va: bigint): bigint {
    return this.translate(v, va);
  }

  peek(v: Vcpu, size: AccessSize, va: bigint): bigint {
    const value = peekGuest(this.ctx, this.vcpus[v.index], va, size);
    if (value === null) throw new EvaluationError(`read at ${hex(va)} would fault`);
    return value;
  }

  shadowed(): boolean {
    return false;
  }

  shadowCount(): number {
    return 0;
  }

  writeProtected(): boolean {
    return false;
  }

  outOfSync(): boolean {
    return false;
  }

  snapshot(): PvModelSnapshot {
    return {
      vcpus: this.vcpus.map((p) => ({
        kernelBase: p.kernelBase,
        userBase: p.userBase,
        flushedAt: p.flushedAt,
        ts: p.ts,
        cr4Guest: p.cr4Guest,
        oldGuestTable: p.oldGuestTable,
        pending: p.pending,
      })),
      shared: this.ctx.snapshotShared(),
    };
  }

  restore(snapshot: unknown): void {
    const s = snapshot as PvModelSnapshot;
    s.vcpus.forEach((x, i) => Object.assign(this.vcpus[i], x));
    this.ctx.restoreShared(s.shared);
  }

  private logCall(
    name: HypercallFields['name'],
    op: string | null,
    args: HypercallFields['args'],
    foreign: string | null,
  ): void {
    this.ctx.emit({ class: 'hypercall', name, op, args, foreign });
  }

  private logRefusal(
    rc: number,
    explain: (r: NonNullable<PvContext['reason']>, result: string) => string,
    place: string,
  ): void {
    const ctx = this.ctx;
    const r = ctx.reason;
    const result = errnoName(rc);
    if (r === null) {
      ctx.emit({
        class: 'refusal',
        rule: '',
        xen_function: '',
        rc: rcValue(rc),
        frame: null,
        entry: null,
        target: null,
        explanation: `${place} was refused \u2014 Xen: ${result}`,
      });
      return;
    }
    ctx.emit({
      class: 'refusal',
      rule: r.rule,
      xen_function: r.chain[0] ?? '',
      rc: rcValue(rc),
      frame: r.frame,
      entry: r.entry,
      target: r.target,
      explanation: explain(r, result),
    });
  }

  private finishCall(
    pv: PvVcpu,
    name: HypercallFields['name'],
    op: string | null,
    rc: number,
    done: number | null,
    failed: number | null,
  ): void {
    pv.vcpu.state.rc = rcValue(rc);
    this.ctx.emit({ class: 'hypercall_result', name, op, rc: rcValue(rc), done, failed_index: failed });
    this.ctx.flushEvents();
  }
}

export const createPvModel: ModelFactory = (machine: Machine, domain: Domain): DomainModel =>
  new PvModel(machine, domain);
