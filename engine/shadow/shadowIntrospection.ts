/**
 * R8.3 and R8.4: `translate`, `guest_translate` and the debugger's `read*` under shadow, with no side
 * effects and without the TLB. `translate` walks the shadows the hardware would use and trusts them
 * even when stale (R6.3); where they refuse a read it answers what the hardware reaches once the
 * fault is handled, i.e. the guest tables' answer.
 */
import { EvaluationError } from '../language/host';
import { hex } from '../machine/guestFaults';
import { allOnes, splitAccess } from '../machine/splitAccess';
import type { Vcpu } from '../machine/vcpu';
import { isCanonical, toVa48 } from '../paging/virtualAddress';
import type { ShadowContext } from './shadowContext';
import { guestWalk, shadowWalk } from './shadowFacts';

const MINUS_ONE = 0xffff_ffff_ffff_ffffn;

/** Where a data read at the current mode lands: a machine address, `unbacked` gpa, or a fault. */
type ReadTarget = { kind: 'ram'; ma: bigint } | { kind: 'unbacked' } | { kind: 'fault' };

function readTarget(ctx: ShadowContext, v: Vcpu, va: bigint): ReadTarget {
  if (!ctx.pagingOn(v)) {
    const mfn = ctx.domain.pfnToMfnBig(va >> 12n);
    return mfn < 0 ? { kind: 'unbacked' } : { kind: 'ram', ma: BigInt(mfn) * 4096n + (va & 0xfffn) };
  }
  if (!isCanonical(va)) return { kind: 'fault' };
  const va48 = toVa48(va);
  const hw = shadowWalk(ctx, v, va48, 'read');
  if (hw !== null && hw.ok) return { kind: 'ram', ma: BigInt(hw.frame) * 4096n + (va & 0xfffn) };
  const gw = guestWalk(ctx, v, va48, 'read', false);
  if (!gw.ok) return { kind: 'fault' };
  const mfn = ctx.gfnToMfn(gw.frame);
  return mfn < 0 ? { kind: 'unbacked' } : { kind: 'ram', ma: BigInt(mfn) * 4096n + (va & 0xfffn) };
}

export function shadowTranslate(ctx: ShadowContext, v: Vcpu, va: bigint): bigint {
  const t = readTarget(ctx, v, va);
  return t.kind === 'ram' ? t.ma : MINUS_ONE;
}

export function shadowGuestTranslate(ctx: ShadowContext, v: Vcpu, va: bigint): bigint {
  if (!ctx.pagingOn(v)) return va;
  if (!isCanonical(va)) return MINUS_ONE;
  const gw = guestWalk(ctx, v, toVa48(va), 'read', false);
  return gw.ok ? BigInt(gw.frame) * 4096n + (va & 0xfffn) : MINUS_ONE;
}

/** The debugger's read (events.md §6.3): along `translate`, all ones where the gpa is not RAM. */
export function shadowPeek(ctx: ShadowContext, v: Vcpu, size: number, va: bigint): bigint {
  let value = 0n;
  let shift = 0n;
  for (const piece of splitAccess(va, size)) {
    const t = readTarget(ctx, v, piece.addr);
    if (t.kind === 'fault') throw new EvaluationError(`read at ${hex(piece.addr)} would fault`);
    const bytes =
      t.kind === 'unbacked'
        ? allOnes(piece.size)
        : ctx.memory.readBytes(Number(t.ma >> 12n), piece.offset, piece.size);
    value |= bytes << shift;
    shift += BigInt(piece.size * 8);
  }
  return value;
}
