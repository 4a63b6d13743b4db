/**
 * A data access or fetch of a shadowed vCPU (R4.1, R3.8): split into its pages; each page goes
 * through the hardware step — the TLB, then the walk of the shadow tables from the vCPU's
 * top-level shadow with WP = 1 — and a shadow fault when both refuse it, after which the hardware
 * retries. With paging off the pages go through the unpaged shadow instead. Bytes move only once
 * every page has resolved, so a fault on the second page writes nothing.
 */
import { GuestRuntimeError } from '../language/host';
import { clearFault, describeAccess, hex, raiseGeneralProtection } from '../machine/guestFaults';
import { accessOverflows, allOnes, splitAccess } from '../machine/splitAccess';
import type { Vcpu } from '../machine/vcpu';
import type { AccessKind } from '../paging/walkTables';
import { isCanonical, pageNumber, toVa48 } from '../paging/virtualAddress';
import type { ShadowContext } from './shadowContext';
import { shadowWalk } from './shadowFacts';
import { shPageFault } from './shadowFault';
import type { ShadowAccess } from './shadowMmio';
import type { PieceResult } from './unpagedAccess';
import { unpagedPiece } from './unpagedAccess';

const MASK64 = 0xffff_ffff_ffff_ffffn;
/** More hardware retries than any chain of fixups needs; beyond it the model has a bug. */
const MAX_RETRIES = 8;

export function shadowAccess(
  ctx: ShadowContext,
  v: Vcpu,
  kind: AccessKind,
  size: number,
  va: bigint,
  value: bigint,
): bigint {
  if (accessOverflows(va, size))
    throw new GuestRuntimeError(`${describeAccess(kind, va)}: the access runs past 2^64-1`);
  const pagingOn = ctx.pagingOn(v);
  if (pagingOn && (!isCanonical(va) || !isCanonical((va + BigInt(size) - 1n) & MASK64))) {
    raiseGeneralProtection(ctx.machine.log, v, {
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
  const results: PieceResult[] = [];
  let shift = 0n;
  for (const piece of pieces) {
    const a: ShadowAccess = {
      kind,
      va,
      size,
      value,
      addr: piece.addr,
      pieceSize: piece.size,
      pieceValue: (value >> shift) & allOnes(piece.size),
      user: v.user,
    };
    shift += BigInt(piece.size * 8);
    const r = pagingOn ? hardwarePiece(ctx, v, a) : unpagedPiece(ctx, v, a);
    if (r.kind === 'stop') return 0n;
    results.push(r);
  }
  clearFault(v);
  const memory = ctx.memory;
  let result = 0n;
  shift = 0n;
  pieces.forEach((piece, i) => {
    const r = results[i];
    if (r.kind === 'ram') {
      if (kind === 'read') result |= memory.readBytes(r.mfn, piece.offset, piece.size) << shift;
      else if (kind === 'write')
        memory.writeBytes(r.mfn, piece.offset, piece.size, (value >> shift) & allOnes(piece.size));
    } else if (r.kind === 'done') {
      result |= r.value << shift;
    }
    shift += BigInt(piece.size * 8);
  });
  return kind === 'read' ? result : 0n;
}

/** R4.1 for one page: TLB, shadow walk, or a shadow fault and a retry. */
function hardwarePiece(ctx: ShadowContext, v: Vcpu, a: ShadowAccess): PieceResult {
  const va48 = toVa48(a.addr);
  const vpn = pageNumber(va48);
  const write = a.kind === 'write';
  const fetch = a.kind === 'fetch';
  for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
    const hit = v.tlb.lookupFor(vpn, write, a.user, fetch, true);
    if (hit !== undefined) return { kind: 'ram', mfn: hit.mfn };
    const hw = shadowWalk(ctx, v, va48, a.kind);
    if (hw === null) throw new Error(`${v.label} has paging on but no top-level shadow`);
    if (hw.ok) {
      v.tlb.fill({
        vpn,
        mfn: hw.frame,
        rw: hw.rw,
        us: hw.us,
        nx: hw.nx,
        global: false,
        filledAt: ctx.currentStep(),
      });
      return { kind: 'ram', mfn: hw.frame };
    }
    // A #PF drops the TLB entry for the faulting page; the handler then replaces it or not.
    v.tlb.invalidate(vpn);
    const outcome = shPageFault(ctx, v, a, hw);
    if (outcome.kind !== 'retry') return outcome;
  }
  throw new Error(
    `${describeAccess(a.kind, a.addr)} still faults after ${MAX_RETRIES} shadow fixups (${hex(a.addr)})`,
  );
}
