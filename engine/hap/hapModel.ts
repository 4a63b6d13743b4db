/**
 * HVM domains with hardware-assisted paging (`paging=hap`, hvm-paging.md §1, §2, §8–§10).
 *
 * The hardware walks two dimensions: the guest's own tables, in guest-physical memory, with every
 * table reference and the final address translated through the p2m (EPT). Nothing is shadowed and
 * guest writes to page tables never trap. The hypervisor only sees EPT violations (a reference to
 * an unbacked gfn: `npf`, then R1.3's #PF for a table, or the null MMIO handler of R1.2 for the
 * final address) and the control-register writes its VMX controls intercept (R2.1).
 *
 * The TLB caches VA page → machine frame with the combined rights and the guest leaf's G bit.
 */
import type { FaultEntryRef } from '../events/eventTypes';
import type {
  AccessSize,
  ControlRegister,
  MmuextOp,
  MmuUpdateRequest,
  PrivilegeMode,
} from '../language/host';
import { EvaluationError } from '../language/host';
import {
  CR0_PG,
  CR0_WP,
  CR4_PGE,
  HVM_INITIAL,
  checkCr0Write,
  checkCr4Write,
  hapCr4InterceptMask,
  isCr4ModeChange,
  refuseCrWriteAtCpl3,
} from '../hvm/hvmControlRegisters';
import { hvmMmuext, hvmMmuUpdate, hvmUpdateVaMapping } from '../hvm/hvmHypercalls';
import type { Domain } from '../machine/domain';
import type { DomainModel } from '../machine/domainModel';
import {
  clearFault,
  describeAccess,
  hex,
  raiseGeneralProtection,
  raisePageFault,
} from '../machine/guestFaults';
import type { Machine } from '../machine/machine';
import { MAX_PHYS_BITS } from '../machine/machine';
import type { AccessPiece } from '../machine/splitAccess';
import { MASK64, allOnes, readPieces, splitAccess, writePieces } from '../machine/splitAccess';
import type { Vcpu } from '../machine/vcpu';
import { PTE_HI_NX, PTE_RW, PTE_US, joinEntry } from '../paging/pte';
import type { AccessKind, Walk } from '../paging/walkTables';
import { walkTables } from '../paging/walkTables';
import { isCanonical, pageNumber, toVa48 } from '../paging/virtualAddress';
import { TableReachability } from './tableReachability';
import type { TableReachabilitySnapshot } from './tableReachability';

const MINUS_ONE = MASK64;
const NPF_CHAIN = 'hvm_hap_nested_page_fault';

/** How one page of an access resolved. */
type PieceTranslation =
  | { kind: 'ram'; mfn: number; gpa: bigint; walked: boolean }
  | { kind: 'unbacked'; gpa: bigint }
  | { kind: 'fault'; walk: Walk; addr: bigint };

export function createHapModel(machine: Machine, domain: Domain): DomainModel {
  for (let i = 0; i < domain.config.vcpus; i++) machine.addVcpu(domain, HVM_INITIAL);
  return new HapModel(machine, domain);
}

export class HapModel implements DomainModel {
  readonly kind = 'hvm-hap' as const;
  private readonly reach: TableReachability;

  constructor(
    private readonly machine: Machine,
    private readonly domain: Domain,
  ) {
    this.reach = new TableReachability(machine.memory, (gfn) => domain.pfnToMfn(gfn));
  }

  // ---- accesses ----

  read(v: Vcpu, size: AccessSize, va: bigint): bigint {
    return this.access(v, 'read', size, va, 0n);
  }

  write(v: Vcpu, size: AccessSize, va: bigint, value: bigint): void {
    this.access(v, 'write', size, va, value);
  }

  fetch(v: Vcpu, va: bigint): void {
    this.access(v, 'fetch', 1, va, 0n);
  }

  private access(v: Vcpu, kind: AccessKind, size: number, va: bigint, value: bigint): bigint {
    const log = this.machine.log;
    const pagingOn = this.pagingOn(v);
    if (pagingOn && (!isCanonical(va) || !isCanonical((va + BigInt(size) - 1n) & MASK64))) {
      raiseGeneralProtection(log, v, {
        access: kind,
        va,
        cause: 'non_canonical',
        rule: 'R4.1',
        what: `${describeAccess(kind, va)} uses a non-canonical address`,
        chain: 'hardware',
      });
      return 0n;
    }
    const pieces = splitAccess(va, size);
    const translations: PieceTranslation[] = [];
    for (const piece of pieces) {
      const t = pagingOn ? this.translatePiece(v, kind, piece, false) : this.physicalPiece(piece);
      if (t.kind === 'fault') {
        this.deliverWalkFault(v, kind, va, t);
        return 0n;
      }
      translations.push(t);
    }
    // Every walk succeeded: now the hardware sets A/D (only now, guest-language.md § Faults).
    if (pagingOn) {
      for (let i = 0; i < pieces.length; i++) {
        const t = translations[i];
        if (t.kind === 'unbacked' || (t.kind === 'ram' && t.walked))
          this.translatePiece(v, kind, pieces[i], true);
      }
    }
    const unbacked = translations.find((t) => t.kind === 'unbacked');
    if (unbacked !== undefined) return this.emulateMmio(v, kind, size, va, value, unbacked.gpa, pagingOn);

    const mfns = translations.map((t) => (t as { mfn: number }).mfn);
    clearFault(v);
    if (kind === 'read') return readPieces(this.machine.memory, pieces, mfns);
    if (kind === 'write') this.writeGuestMemory(pieces, mfns, value);
    return 0n;
  }

  /** Paging off: the address is a gpa, used as is (R1.5). */
  private physicalPiece(piece: AccessPiece): PieceTranslation {
    const gfn = piece.addr >> 12n;
    const mfn = this.domain.pfnToMfnBig(gfn);
    return mfn < 0
      ? { kind: 'unbacked', gpa: piece.addr }
      : { kind: 'ram', mfn, gpa: piece.addr, walked: false };
  }

  /** TLB, then the two-dimensional walk; with `commit` the walk sets A/D and the TLB is filled. */
  private translatePiece(v: Vcpu, kind: AccessKind, piece: AccessPiece, commit: boolean): PieceTranslation {
    const va48 = toVa48(piece.addr);
    const vpn = pageNumber(va48);
    const offset = BigInt(va48 % 4096);
    const hit = v.tlb.lookupFor(vpn, kind === 'write', v.user, kind === 'fetch', this.wp(v));
    if (hit !== undefined) return { kind: 'ram', mfn: hit.mfn, gpa: -1n, walked: false };
    const walk = this.walk(v, va48, kind, commit);
    if (!walk.ok) return { kind: 'fault', walk, addr: piece.addr };
    const gpa = BigInt(walk.frame) * 4096n + offset;
    const mfn = this.domain.pfnToMfn(walk.frame);
    if (mfn < 0) return { kind: 'unbacked', gpa };
    if (commit) {
      v.tlb.fill({
        vpn,
        mfn,
        rw: walk.rw,
        us: walk.us,
        nx: walk.nx,
        global: walk.global,
        dirty: walk.dirty,
        filledAt: this.machine.log.getContext().step,
      });
    }
    return { kind: 'ram', mfn, gpa, walked: true };
  }

  private walk(v: Vcpu, va48: number, access: AccessKind, setAD: boolean): Walk {
    return walkTables({
      memory: this.machine.memory,
      root: Number((v.state.cr3 >> 12n) & 0xff_ffff_ffffn),
      va48,
      access,
      user: v.user,
      wp: this.wp(v),
      nxe: true,
      allow1G: true,
      maxPhysBits: MAX_PHYS_BITS,
      tableMfn: (gfn) => this.domain.pfnToMfn(gfn),
      setAD,
    });
  }

  private deliverWalkFault(v: Vcpu, kind: AccessKind, va: bigint, t: { walk: Walk; addr: bigint }): void {
    const log = this.machine.log;
    const walk = t.walk;
    const what = describeAccess(kind, t.addr);
    if (walk.cause === 'unbacked_table') {
      const gpa = BigInt(walk.unbackedFrame ?? 0) * 4096n;
      log.append({
        class: 'npf',
        gla: t.addr,
        gpa,
        kind: 'table',
        access: 'read',
        explanation: `reading the L${walk.faultLevel} table at gpa ${hex(gpa)} for ${what} is an EPT violation: gfn ${hex(walk.unbackedFrame ?? 0)} is not RAM — ${NPF_CHAIN} → hvm_emulate_one → guest_walk_tables`,
      });
      raisePageFault(log, v, {
        addr: t.addr,
        code: walk.errorCode,
        access: kind,
        va,
        cause: 'unbacked_table',
        level: walk.faultLevel,
        entry: null,
        rule: 'R1.3',
        what: `${what} faulted: its L${walk.faultLevel} table, gfn ${hex(walk.unbackedFrame ?? 0)}, is not RAM`,
        chain: `${NPF_CHAIN} → guest_walk_tables`,
      });
      return;
    }
    const stop = faultingLevel(walk, kind, v.user, this.wp(v));
    const entry: FaultEntryRef = {
      mfn: stop.mfn,
      gfn: stop.frame,
      index: stop.index,
      value: joinEntry(stop.lo, stop.hi),
    };
    raisePageFault(log, v, {
      addr: t.addr,
      code: walk.errorCode,
      access: kind,
      va,
      cause: walk.cause ?? 'not_present',
      level: stop.level,
      entry,
      rule: 'R9.1',
      what: `${what} faulted: ${describeStop(walk.cause, stop, kind, v.user)}`,
      chain: 'hardware',
    });
  }

  /** R1.2: the final address is not RAM — the null handler completes reads and writes. */
  private emulateMmio(
    v: Vcpu,
    kind: AccessKind,
    size: number,
    va: bigint,
    value: bigint,
    gpa: bigint,
    pagingOn: boolean,
  ): bigint {
    const log = this.machine.log;
    log.append({
      class: 'npf',
      gla: pagingOn ? va : null,
      gpa,
      kind: 'final',
      access: kind,
      explanation: `${describeAccess(kind, va)} reaches gpa ${hex(gpa)}, which is not RAM: an EPT violation handed to the emulator — ${NPF_CHAIN} → handle_mmio`,
    });
    const result = kind === 'read' ? allOnes(size) : 0n;
    log.append({
      class: 'mmio',
      va,
      gpa,
      size,
      dir: kind,
      value: kind === 'read' ? result : kind === 'write' ? value & allOnes(size) : null,
      fast: false,
      explanation:
        kind === 'read'
          ? `read of ${size} bytes at gpa ${hex(gpa)} has no device: it reads all ones — hvmemul_do_io → null_read`
          : kind === 'write'
            ? `write of ${size} bytes to gpa ${hex(gpa)} has no device: it is discarded — hvmemul_do_io → null_write`
            : `fetch at gpa ${hex(gpa)} cannot be emulated: there are no instruction bytes outside RAM — ${NPF_CHAIN} → handle_mmio`,
    });
    if (kind === 'fetch') {
      raiseGeneralProtection(log, v, {
        access: 'fetch',
        va,
        cause: 'mmio_fetch',
        rule: 'R1.2',
        what: `fetch at ${hex(va)} reaches gpa ${hex(gpa)}, which is not RAM`,
        chain: `${NPF_CHAIN} → handle_mmio`,
      });
      return 0n;
    }
    clearFault(v);
    return result;
  }

  /** The write, and `entry_update` for each changed slot of a frame reachable as a table (R9.2). */
  private writeGuestMemory(pieces: AccessPiece[], mfns: number[], value: bigint): void {
    const memory = this.machine.memory;
    const touched: { mfn: number; gfn: number; levels: number[]; index: number; lo: number; hi: number }[] =
      [];
    for (let i = 0; i < pieces.length; i++) {
      const gfn = this.domain.mfnToPfn(mfns[i]);
      const level = gfn < 0 ? 0 : this.reach.lowestLevel(gfn);
      if (level === 0) continue;
      const levels = this.reach.upperLevels(gfn);
      const first = pieces[i].offset >> 3;
      const last = (pieces[i].offset + pieces[i].size - 1) >> 3;
      for (let index = first; index <= last; index++) {
        touched.push({
          mfn: mfns[i],
          gfn,
          levels,
          index,
          lo: memory.readLo(mfns[i], index),
          hi: memory.readHi(mfns[i], index),
        });
      }
    }
    writePieces(memory, pieces, mfns, value);
    for (const t of touched) {
      const lo = memory.readLo(t.mfn, t.index);
      const hi = memory.readHi(t.mfn, t.index);
      if (lo === t.lo && hi === t.hi) continue;
      const level = this.reach.lowestLevel(t.gfn);
      this.machine.log.append({
        class: 'entry_update',
        mfn: t.mfn,
        gfn: t.gfn,
        level,
        index: t.index,
        old: joinEntry(t.lo, t.hi),
        new: joinEntry(lo, hi),
        path: 'plain_write',
        xen_function: null,
      });
      for (const upper of t.levels) this.reach.entryChanged(upper, t.lo, t.hi, lo, hi);
    }
  }

  // ---- control registers, invlpg, mode ----

  movCr(v: Vcpu, reg: ControlRegister, value: bigint): void {
    const log = this.machine.log;
    const s = v.state;
    const old = reg === 0 ? s.cr0 : reg === 3 ? s.cr3 : s.cr4;
    const base = { class: 'cr_write' as const, reg, old, value, shadow_made: null };
    if (v.user) {
      refuseCrWriteAtCpl3(log, v, reg, old, value);
      return;
    }
    if (reg === 3) {
      const wasOn = this.pagingOn(v);
      if (wasOn) this.reach.removeRoot(this.rootGfn(v));
      s.cr3 = value;
      if (wasOn) this.reach.addRoot(this.rootGfn(v));
      const scope = (s.cr4 & CR4_PGE) !== 0n ? 'non_global' : 'all';
      log.append({
        ...base,
        ok: true,
        intercepted: false,
        mode_change: false,
        tlb_flush: scope,
        explanation: `mov cr3, ${hex(value)}: the hardware loads it (CR3 writes are not intercepted under HAP) and flushes ${scope === 'all' ? 'every' : 'every non-global'} TLB entry — hardware`,
      });
      this.flush(v, scope, 'mov_cr3');
      clearFault(v);
      return;
    }
    const pagingOn = this.pagingOn(v);
    const intercepted = reg === 0 ? value !== old : ((old ^ value) & hapCr4InterceptMask(pagingOn)) !== 0n;
    let next = value;
    if (intercepted) {
      const check = reg === 0 ? checkCr0Write(value, s.cr4) : checkCr4Write(value, pagingOn);
      if (!check.ok) {
        const fn = reg === 0 ? 'hvm_set_cr0' : 'hvm_set_cr4';
        log.append({
          ...base,
          ok: false,
          intercepted: true,
          mode_change: false,
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
      next = check.value;
    }
    const modeChange = reg === 0 ? ((old ^ next) & CR0_PG) !== 0n : isCr4ModeChange(old, next);
    if (reg === 0) {
      if (pagingOn && !((next & CR0_PG) !== 0n)) this.reach.removeRoot(this.rootGfn(v));
      s.cr0 = next;
      if (!pagingOn && (next & CR0_PG) !== 0n) this.reach.addRoot(this.rootGfn(v));
    } else {
      s.cr4 = next;
    }
    const fn = reg === 0 ? 'hvm_set_cr0' : 'hvm_set_cr4';
    const what = !intercepted
      ? `mov cr${reg}, ${hex(value)} runs in hardware (not intercepted)`
      : `mov cr${reg}, ${hex(value)} is intercepted and loaded as ${hex(next)}`;
    const effect = modeChange ? '; the paging mode changed, so every TLB entry is flushed' : '';
    const chain = intercepted ? (modeChange ? `${fn} → paging_update_paging_modes` : fn) : 'hardware';
    log.append({
      ...base,
      ok: true,
      intercepted,
      mode_change: modeChange,
      tlb_flush: modeChange ? 'all' : 'none',
      explanation: `${what}${effect} — ${chain}`,
    });
    if (modeChange) this.flush(v, 'all', 'paging_mode');
    clearFault(v);
  }

  invlpg(v: Vcpu, va: bigint): void {
    const log = this.machine.log;
    if (v.user) {
      raiseGeneralProtection(log, v, {
        access: null,
        va: null,
        cause: 'privileged',
        rule: 'R2.1',
        what: `invlpg ${hex(va)} at CPL 3`,
        chain: 'hardware',
      });
      return;
    }
    log.append({
      class: 'invlpg',
      va,
      oos_entry_cleared: false,
      full_flush: false,
      explanation: `invlpg ${hex(va)} drops the TLB entry for its page (not intercepted under HAP) — hardware`,
    });
    if (isCanonical(va)) v.tlb.invalidate(pageNumber(toVa48(va)));
    log.append({ class: 'tlb_flush', vcpus: [v.index], scope: 'one', va, cause: 'invlpg', mfn: null });
    clearFault(v);
  }

  setMode(v: Vcpu, mode: PrivilegeMode): void {
    v.state.mode = mode;
  }

  readCr(v: Vcpu, reg: ControlRegister): bigint {
    return reg === 0 ? v.state.cr0 : reg === 3 ? v.state.cr3 : v.state.cr4;
  }

  // ---- hypercalls ----

  mmuUpdate(v: Vcpu, requests: readonly MmuUpdateRequest[], foreign: Domain | null): void {
    hvmMmuUpdate(this.machine.log, v, requests, foreign?.name ?? null);
  }

  mmuext(v: Vcpu, op: MmuextOp, arg: bigint): void {
    hvmMmuext(this.machine.log, v, op, arg);
  }

  updateVaMapping(v: Vcpu, va: bigint, val: bigint, flags: bigint): void {
    hvmUpdateVaMapping(this.machine.log, v, va, val, flags);
  }

  // ---- introspection ----

  translate(v: Vcpu, va: bigint): bigint {
    const gpa = this.guestTranslate(v, va);
    if (gpa === MINUS_ONE) return MINUS_ONE;
    const mfn = this.domain.pfnToMfnBig(gpa >> 12n);
    return mfn < 0 ? MINUS_ONE : BigInt(mfn) * 4096n + (gpa & 0xfffn);
  }

  guestTranslate(v: Vcpu, va: bigint): bigint {
    if (!this.pagingOn(v)) return va;
    if (!isCanonical(va)) return MINUS_ONE;
    const walk = this.walk(v, toVa48(va), 'read', false);
    return walk.ok ? BigInt(walk.frame) * 4096n + (va & 0xfffn) : MINUS_ONE;
  }

  peek(v: Vcpu, size: AccessSize, va: bigint): bigint {
    const pieces = splitAccess(va, size);
    let value = 0n;
    let shift = 0n;
    for (const piece of pieces) {
      const gpa = this.guestTranslate(v, piece.addr);
      if (gpa === MINUS_ONE) throw new EvaluationError(`read at ${hex(piece.addr)} would fault`);
      const mfn = this.domain.pfnToMfnBig(gpa >> 12n);
      const bytes =
        mfn < 0 ? allOnes(piece.size) : this.machine.memory.readBytes(mfn, piece.offset, piece.size);
      value |= bytes << shift;
      shift += BigInt(piece.size * 8);
    }
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

  snapshot(): TableReachabilitySnapshot {
    return this.reach.snapshot();
  }

  restore(snapshot: unknown): void {
    this.reach.restore(snapshot as TableReachabilitySnapshot);
  }

  // ---- helpers ----

  private pagingOn(v: Vcpu): boolean {
    return (v.state.cr0 & CR0_PG) !== 0n;
  }

  private wp(v: Vcpu): boolean {
    return (v.state.cr0 & CR0_WP) !== 0n;
  }

  private rootGfn(v: Vcpu): number {
    return Number((v.state.cr3 >> 12n) & 0xff_ffff_ffffn);
  }

  private flush(v: Vcpu, scope: 'all' | 'non_global', cause: 'mov_cr3' | 'paging_mode'): void {
    if (scope === 'all') v.tlb.flushAll();
    else v.tlb.flushNonGlobal();
    this.machine.log.append({ class: 'tlb_flush', vcpus: [v.index], scope, va: null, cause, mfn: null });
  }
}

interface StopLevel {
  level: number;
  frame: number;
  mfn: number;
  index: number;
  lo: number;
  hi: number;
}

/** The entry that stopped a failed walk: the last one read, or for a protection fault the highest
 *  level whose entry withholds the right. */
export function faultingLevel(walk: Walk, kind: AccessKind, user: boolean, wp: boolean): StopLevel {
  const levels = walk.levels;
  if (walk.cause === 'protection') {
    for (const l of levels) {
      if (user && (l.lo & PTE_US) === 0) return l;
      if (kind === 'write' && (user || wp) && (l.lo & PTE_RW) === 0) return l;
      if (kind === 'fetch' && (l.hi & PTE_HI_NX) !== 0) return l;
    }
  }
  return levels[levels.length - 1];
}

export function describeStop(cause: Walk['cause'], stop: StopLevel, kind: AccessKind, user: boolean): string {
  const place = `L${stop.level} entry ${stop.index} of gfn ${hex(stop.frame)}`;
  switch (cause) {
    case 'not_present':
      return `${place} is not present`;
    case 'reserved':
      return `${place} (${hex(joinEntry(stop.lo, stop.hi))}) has reserved bits set`;
    default: {
      if (user && (stop.lo & PTE_US) === 0) return `${place} is supervisor-only (US clear)`;
      if (kind === 'write' && (stop.lo & PTE_RW) === 0) return `${place} is read-only (RW clear)`;
      return `${place} forbids execution (NX set)`;
    }
  }
}
