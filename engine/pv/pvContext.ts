/**
 * The PV memory manager's working state (xen-semantics.md): what Xen keeps beside the frame table.
 *
 * The model is Xen's own machinery in miniature. Every rule of the contract is a consequence of a
 * few mechanisms that are modelled as Xen has them, rather than special-cased:
 * - the frame table (owner, general count, type, type count, validated, pinned, TLB stamp) lives in
 *   `machine.frameTable`; the per-frame fields Xen keeps in the same union as the TLB stamp — the
 *   linear page-table count and the partial-validation state (`nr_validated_ptes`, `PTF_partial_set`)
 *   — live here, sparse, because only a handful of frames ever have them;
 * - each vCPU's `old_guest_table` (the table a failed validation parks), so that R2.5's tear-down,
 *   R2.5b's lost L2 and R8.1a's pending window all fall out of the same code Xen runs;
 * - one TLB clock for the machine (R10.4).
 *
 * Simplified: no preemption (every continuation completes inside the statement, §0), one PV
 * "physical CPU" per vCPU.
 *
 * Events are buffered per statement and written to the machine's log when the statement ends, so
 * a trap's own event (`cr_write`, `hypercall`) can come first although its outcome is known last.
 * The per-entry events (`ref_taken`, `ref_dropped`, `entry_update`) are buffered and logged packed,
 * as numbers (`EventLog.appendPacked`): a pin validating a million entries builds no objects unless
 * someone reads them.
 */
import type { EngineEvent, EventInput, FrameTypeName, RefHolder } from '../events/eventTypes';
import type { EventContext } from '../events/eventLog';
import { registerPackedDecoder } from '../events/eventLog';
import type { Domain } from '../machine/domain';
import type { FrameTable } from '../machine/frameTable';
import { PAGE_TYPE_NAMES } from '../machine/frameTable';
import type { Machine } from '../machine/machine';
import type { MachineMemory } from '../memory/machineMemory';
import type { Vcpu } from '../machine/vcpu';
import type { Reason } from './refusalExplanations';

export const EPERM = 1;
export const ESRCH = 3;
export const EFAULT = 14;
export const EBUSY = 16;
export const EINVAL = 22;
export const ENOSYS = 38;

/** A negative errno as the 64-bit `rc` register holds it. */
export function rcValue(rc: number): bigint {
  return rc === 0 ? 0n : (1n << 64n) + BigInt(rc);
}

/** Holder codes for ref events; an entry holder is encoded as `mfn * 2048 + (level - 1) * 512 + index`. */
export const HOLDER_PIN = -1;
export const HOLDER_BASEPTR = -2;
export const HOLDER_USER_BASEPTR = -3;
export const HOLDER_ATTEMPT = -4;
export const HOLDER_PENDING = -5;
/** A transient reference Xen takes and gives back within one request: not logged. */
export const HOLDER_NONE = -6;

export function entryHolder(mfn: number, level: number, index: number): number {
  return mfn * 2048 + (level - 1) * 512 + index;
}

function decodeHolder(h: number): RefHolder {
  switch (h) {
    case HOLDER_PIN:
      return 'pin';
    case HOLDER_BASEPTR:
      return 'baseptr';
    case HOLDER_USER_BASEPTR:
      return 'user_baseptr';
    case HOLDER_PENDING:
      return 'pending';
    case HOLDER_ATTEMPT:
      return 'attempt';
  }
  const mfn = Math.floor(h / 2048);
  const rest = h - mfn * 2048;
  return { mfn, level: (rest >> 9) + 1, index: rest & 511 };
}

/** A packed `ref_taken`/`ref_dropped` (`PvContext.refEvent`): taken, mfn, kind, type, count, holder. */
const REF_EVENT = registerPackedDecoder((c: EventContext, f: Float64Array, at: number): EngineEvent => ({
  step: c.step,
  domain: c.domain,
  vcpu: c.vcpu,
  line: c.line,
  class: f[at] === 1 ? 'ref_taken' : 'ref_dropped',
  mfn: f[at + 1],
  kind: f[at + 2] === 0 ? 'general' : 'type',
  type: PAGE_TYPE_NAMES[f[at + 3]],
  count_after: f[at + 4],
  holder: decodeHolder(f[at + 5]),
}));

/** The PV state of one vCPU (Xen's `struct arch_vcpu` fields the model needs). */
export interface PvVcpu {
  readonly vcpu: Vcpu;
  readonly domain: Domain;
  /** Kernel and user base pointers (`guest_table`, `guest_table_user`); 0 = none. */
  kernelBase: number;
  userBase: number;
  /** TLB clock value of this vCPU's last full flush (R10.4). */
  flushedAt: number;
  /** The guest's CR0.TS (R8.2) and guest-controllable CR4 bits (R8.3). */
  ts: boolean;
  cr4Guest: number;
  /** `old_guest_table`: a parked, partly validated table (−1 none). */
  oldGuestTable: number;
  /** The parked table was left by a failed `mov cr3` and is pending until R8.1a step 4. */
  pending: boolean;
}

export interface PvVcpuSnapshot {
  kernelBase: number;
  userBase: number;
  flushedAt: number;
  ts: boolean;
  cr4Guest: number;
  oldGuestTable: number;
  pending: boolean;
}

/** Partial-validation state of a frame (`nr_validated_ptes`, `partial_flags`, `PGT_partial`). */
export interface PartialState {
  readonly nrValidated: number;
  readonly partialSet: boolean;
}

export interface PvSharedSnapshot {
  clock: number;
  linear: Map<number, number>;
  partial: Map<number, PartialState>;
  lost: Map<number, number>;
}

/**
 * Machine-wide PV state, shared by every PV domain's model of one machine: the TLB clock, the
 * sparse per-frame fields, the vCPUs, and the statement's event buffer.
 */
export class PvContext {
  readonly ft: FrameTable;
  readonly mem: MachineMemory;
  /** The TLB clock (R10.4). */
  clock = 0;
  /** `linear_pt_count`: > 0 linear entries the table holds, < 0 uses as a linear target. */
  linear = new Map<number, number>();
  /** Frames with `PGT_partial` (parked or handed to a parent's entry). */
  partial = new Map<number, PartialState>();
  /** L2s lost by R2.5b (mfn → failing index), for the audit. */
  lost = new Map<number, number>();
  /** PV vCPUs by domain id. */
  readonly vcpusByDomain = new Map<number, PvVcpu[]>();
  /** The vCPU whose statement runs (Xen's `current`). */
  current!: PvVcpu;
  /**
   * Log the per-entry events (`ref_taken`, `ref_dropped`, `entry_update`). On for every run: they are
   * part of the event log (events.md). Only an embedder that never reads the log (the benchmark's
   * "no listener" figures) turns them off, so that a million validated entries build no objects.
   */
  entryEvents = true;
  /** The statement's events so far: an event, or (a number) the log row a packed one is staged in. */
  private buffer: (EngineEvent | number)[] = [];

  constructor(readonly machine: Machine) {
    this.ft = machine.frameTable;
    this.mem = machine.memory;
  }

  emit(e: EventInput): void {
    const c = this.machine.log.getContext();
    this.buffer.push({ step: c.step, domain: c.domain, vcpu: c.vcpu, line: c.line, ...e } as EngineEvent);
  }

  /** The envelope of the statement being run, for events built in one literal on hot paths. */
  get envelope(): EventContext {
    return this.machine.log.getContext();
  }

  /** Buffers an event already built with the envelope. */
  emitBuilt(e: EngineEvent): void {
    this.buffer.push(e);
  }

  /** Buffered events so far (for inserting a trap's own event first). */
  get mark(): number {
    return this.buffer.length;
  }

  insertAt(mark: number, e: EventInput): void {
    const c = this.machine.log.getContext();
    this.buffer.splice(mark, 0, {
      step: c.step,
      domain: c.domain,
      vcpu: c.vcpu,
      line: c.line,
      ...e,
    } as EngineEvent);
  }

  /** Buffers a packed event: eight numbers that decoder `decoder` turns into the event when read. */
  emitPacked(
    decoder: number,
    f0: number,
    f1: number,
    f2: number,
    f3: number,
    f4: number,
    f5: number,
    f6: number,
    f7: number,
  ): void {
    this.buffer.push(this.machine.log.stagePacked(decoder, f0, f1, f2, f3, f4, f5, f6, f7));
  }

  /** Writes the statement's buffered events to the machine's log; packed ones a run at a time. */
  flushEvents(): void {
    const log = this.machine.log;
    const buffer = this.buffer;
    for (let i = 0; i < buffer.length;) {
      const e = buffer[i];
      if (typeof e !== 'number') {
        log.appendBuilt(e);
        i++;
        continue;
      }
      // Packed rows are numbered in the order emitted, and insertAt only inserts objects, so a run
      // of numbers in the buffer is a run of consecutive rows.
      let n = 1;
      while (i + n < buffer.length && typeof buffer[i + n] === 'number') n++;
      log.appendStaged(e, n);
      i += n;
    }
    buffer.length = 0;
  }

  refEvent(taken: boolean, mfn: number, kind: 'general' | 'type', holder: number): void {
    if (!this.entryEvents || holder === HOLDER_NONE) return;
    const ft = this.ft;
    const general = kind === 'general';
    this.emitPacked(
      REF_EVENT,
      taken ? 1 : 0,
      mfn,
      general ? 0 : 1,
      ft.type(mfn),
      general ? ft.refCount(mfn) : ft.typeCount(mfn),
      holder,
      0,
      0,
    );
  }

  typeName(mfn: number): FrameTypeName {
    return PAGE_TYPE_NAMES[this.ft.type(mfn)];
  }

  vcpusOf(domainId: number): PvVcpu[] {
    return this.vcpusByDomain.get(domainId) ?? [];
  }

  /** Is this domain a PV domain of this machine (its frames take `WRITABLE` references)? */
  isPvDomain(domainId: number): boolean {
    return this.vcpusByDomain.has(domainId);
  }

  domain(id: number): Domain | undefined {
    return this.machine.domainById(id);
  }

  /** Domain kinds never change during a run: `paging_mode_external` by domain id, looked up once. */
  private readonly external: (boolean | undefined)[] = [];

  /** `paging_mode_external(d)`: an HVM domain (its frames take no WRITABLE references from foreign maps). */
  isExternal(id: number): boolean {
    let e = this.external[id];
    if (e === undefined) {
      e = this.domain(id)?.isHvm === true;
      this.external[id] = e;
    }
    return e;
  }

  snapshotShared(): PvSharedSnapshot {
    return {
      clock: this.clock,
      linear: new Map(this.linear),
      partial: new Map(this.partial),
      lost: new Map(this.lost),
    };
  }

  restoreShared(s: PvSharedSnapshot): void {
    this.clock = s.clock;
    this.linear = new Map(s.linear);
    this.partial = new Map(s.partial);
    this.lost = new Map(s.lost);
    // Checkpoints fall between statements, when nothing is buffered; a statement cut short by a
    // run-time error may have left events (and packed rows the log has since dropped) behind.
    this.buffer.length = 0;
  }

  /** Stashes a reason for the statement's refusal event (set by the deciding check). */
  reason: Reason | null = null;
  /** The index at which the last validation failed (for its `validate` event). */
  failedIndex = 0;
}

const contexts = new WeakMap<Machine, PvContext>();

/** The PV context of a machine, created by the first PV domain's factory. */
export function pvContextOf(machine: Machine): PvContext {
  let ctx = contexts.get(machine);
  if (ctx === undefined) {
    ctx = new PvContext(machine);
    contexts.set(machine, ctx);
  }
  return ctx;
}

/** The PV context of a machine if it has PV domains. */
export function existingPvContext(machine: Machine): PvContext | undefined {
  return contexts.get(machine);
}

/**
 * Turns the per-entry events (`ref_taken`, `ref_dropped`, `entry_update`) on or off for a machine: on
 * by default, and a run's event log needs them; off only where nothing reads the log (benchmarks).
 */
export function setPvEntryEvents(machine: Machine, on: boolean): void {
  pvContextOf(machine).entryEvents = on;
}
