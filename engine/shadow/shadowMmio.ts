/**
 * R1.2 under shadow: an access whose final address is not RAM is completed by the emulator's null
 * handler (`handle_mmio_with_translation` → `hvmemul_do_io` → `null_read`/`null_write`): a read
 * gives all ones, a write is dropped, a fetch cannot be completed and the #PF the hardware raised is
 * injected. The event `mmio` comes first; what the trap caused follows; then the fault.
 */
import { allOnes } from '../machine/splitAccess';
import { clearFault, hex, raisePageFault } from '../machine/guestFaults';
import type { Vcpu } from '../machine/vcpu';
import { PF_I, PF_P, PF_RSVD, PF_U } from '../paging/pte';
import type { AccessKind } from '../paging/walkTables';
import type { ShadowContext } from './shadowContext';
import { describeMmio } from './shadowExplanations';

/** One page's piece of an access: the statement's address and value, and this piece's bytes. */
export interface ShadowAccess {
  readonly kind: AccessKind;
  /** The statement's address, size and value (an emulated write handles all of them). */
  readonly va: bigint;
  readonly size: number;
  readonly value: bigint;
  /** This piece: its first byte (the fault address), its size and its bytes of `value`. */
  readonly addr: bigint;
  readonly pieceSize: number;
  readonly pieceValue: bigint;
  /** CPL 3. */
  readonly user: boolean;
}

/**
 * The null handler for one piece at `gpa`; returns the piece's bytes for a read. `fast`: the
 * hardware met a magic entry (its error code has PF_RSVD); otherwise the slow path.
 * `ram`: the emulator's translation reached RAM after all (R1.2's fast path after an OOS change).
 */
export function completeMmio(
  ctx: ShadowContext,
  v: Vcpu,
  a: ShadowAccess,
  gpa: bigint,
  fast: boolean,
  ramMfn = -1,
): bigint {
  ctx.vcpuState(v).lastEmulatedGfn = -1;
  const offset = Number(a.addr & 0xfffn);
  let value: bigint | null = null;
  if (a.kind === 'read') {
    value = ramMfn >= 0 ? ctx.memory.readBytes(ramMfn, offset, a.pieceSize) : allOnes(a.pieceSize);
  } else if (a.kind === 'write') {
    value = a.pieceValue;
    if (ramMfn >= 0) ctx.memory.writeBytes(ramMfn, offset, a.pieceSize, a.pieceValue);
  }
  ctx.machine.log.append({
    class: 'mmio',
    va: a.va,
    gpa,
    size: a.pieceSize,
    dir: a.kind,
    value,
    fast,
    explanation:
      ramMfn >= 0
        ? `${a.kind} at ${hex(a.addr)} met a stale magic MMIO entry, but the guest tables now map RAM: the emulator performs it there — sh_page_fault (fast MMIO path) → handle_mmio_with_translation`
        : describeMmio(a.kind, a.pieceSize, gpa, fast),
  });
  ctx.flushPending();
  if (a.kind !== 'fetch') {
    clearFault(v);
    return value ?? 0n;
  }
  const code = PF_P | PF_I | (fast ? PF_RSVD : 0) | (a.user ? PF_U : 0);
  raisePageFault(ctx.machine.log, v, {
    addr: a.addr,
    code,
    access: 'fetch',
    va: a.va,
    cause: 'mmio_fetch',
    level: null,
    entry: null,
    rule: 'R1.2',
    what: `fetch at ${hex(a.addr)} reaches gpa ${hex(gpa)}, which is not RAM, and cannot be emulated`,
    chain: 'vmx_vmexit_handler → sh_page_fault → hvm_inject_page_fault',
  });
  return 0n;
}
