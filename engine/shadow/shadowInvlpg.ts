/**
 * R6.4: `invlpg` under shadow (`sh_invlpg`, multi.c). If the shadow path to the VA reaches the L1
 * shadow of an out-of-sync frame, that one shadow entry is cleared (the frame stays out of sync); if
 * it reaches an fl1 shadow, the whole TLB is flushed; in every case the VA's TLB entry is dropped.
 */
import { clearFault, hex, raiseGeneralProtection } from '../machine/guestFaults';
import type { Vcpu } from '../machine/vcpu';
import { PTE_P, entryFrame } from '../paging/pte';
import { isCanonical, pageNumber, tableIndex, toVa48 } from '../paging/virtualAddress';
import type { ShadowContext } from './shadowContext';
import { describeInvlpg } from './shadowExplanations';
import { EMPTY } from './shadowPropagate';
import { shadowSetL1 } from './shadowSet';
import type { ShadowPage } from './shadowTypes';

export function shadowInvlpg(ctx: ShadowContext, v: Vcpu, va: bigint): void {
  const log = ctx.machine.log;
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
  let cleared: { index: number; gfn: number } | null = null;
  let fullFlush = false;
  if (!ctx.pagingOn(v)) {
    // With paging off the vCPU runs on the unpaged shadow, whose leaves are fl1 shadows: an invlpg in
    // a 4 MiB block the unpaged table has shadowed flushes the whole TLB (sh_invlpg's fl1 case).
    fullFlush = ctx.unpaged.blockFilled(Number(va >> 22n));
    if (fullFlush) v.tlb.flushAll();
  } else if (isCanonical(va)) {
    const va48 = toVa48(va);
    const sl1 = shadowL1Of(ctx, v, va48);
    if (sl1?.type === 'fl1') {
      fullFlush = true;
      v.tlb.flushAll();
    } else if (sl1 !== undefined && ctx.isOutOfSync(sl1.gfn)) {
      const index = tableIndex(va48, 1);
      shadowSetL1(ctx, sl1, index, EMPTY);
      cleared = { index, gfn: sl1.gfn };
    }
    v.tlb.invalidate(pageNumber(va48));
  }
  log.append({
    class: 'invlpg',
    va,
    oos_entry_cleared: cleared !== null,
    full_flush: fullFlush,
    explanation: describeInvlpg(va, cleared, fullFlush),
  });
  clearFault(v);
}

/** The L1/fl1 shadow the present shadow L4, L3 and L2 entries on the VA's path lead to. */
function shadowL1Of(ctx: ShadowContext, v: Vcpu, va48: number): ShadowPage | undefined {
  let smfn = ctx.vcpuState(v).top;
  for (const level of [4, 3, 2]) {
    if (smfn < 0) return undefined;
    const index = tableIndex(va48, level);
    const lo = ctx.memory.readLo(smfn, index);
    if ((lo & PTE_P) === 0) return undefined;
    smfn = entryFrame(lo, ctx.memory.readHi(smfn, index));
  }
  return ctx.hash.page(smfn);
}
