/**
 * R3.8: an access with paging off runs on Xen's unpaged shadow (see `unpagedMap.ts`). The walk of
 * Xen's identity table always succeeds and touches no guest memory, so the only faults are the
 * shadow faults of a 2-level guest (`sh_page_fault`): fill the entry and prefetch, then emulate a
 * write to a shadowed frame (or unshadow it at CPL 3), hand an unbacked page to the null handler,
 * emulate a supervisor write while the guest's CR0.WP is clear, or fix up and retry.
 */
import type { Vcpu } from '../machine/vcpu';
import { hex } from '../machine/guestFaults';
import type { ShadowContext } from './shadowContext';
import { emulateWrite } from './shadowEmulate';
import { describeFixup } from './shadowExplanations';
import type { FaultOutcome } from './shadowFault';
import type { ShadowAccess } from './shadowMmio';
import { completeMmio } from './shadowMmio';
import { PREFETCH_DISTANCE } from './shadowTypes';
import { UNPAGED_MAGIC, UNPAGED_RAM_RO, UNPAGED_RAM_RW } from './unpagedMap';
import { shRemoveShadows } from './unshadow';

export type PieceResult = { kind: 'ram'; mfn: number } | FaultOutcome;

/** One page's piece of an access with paging off. */
export function unpagedPiece(ctx: ShadowContext, v: Vcpu, a: ShadowAccess): PieceResult {
  const page = Number(a.addr >> 12n);
  for (let attempt = 0; attempt < 4; attempt++) {
    const entry = ctx.unpaged.get(page);
    if (entry === UNPAGED_RAM_RW || (entry === UNPAGED_RAM_RO && a.kind !== 'write')) {
      return { kind: 'ram', mfn: ctx.gfnToMfn(page) };
    }
    if (entry === UNPAGED_MAGIC) {
      const value = completeMmio(ctx, v, a, a.addr, true);
      return a.kind === 'fetch' ? { kind: 'stop' } : { kind: 'done', value };
    }
    const outcome = unpagedFault(ctx, v, a, page);
    if (outcome.kind !== 'retry') return outcome;
  }
  throw new Error(`unpaged access at ${hex(a.addr)} keeps faulting`);
}

function unpagedFault(ctx: ShadowContext, v: Vcpu, a: ShadowAccess, page: number): FaultOutcome {
  ctx.beginTrap();
  // a. the entry; b. prefetch to the end of the 2 MiB block.
  fillEntry(ctx, page);
  const last = Math.min(page + PREFETCH_DISTANCE - 1, page - (page % 512) + 511);
  for (let k = page + 1; k <= last; k++) {
    if (ctx.unpaged.get(k) !== 0) break;
    fillEntry(ctx, k);
  }
  const backed = ctx.gfnToMfn(page) >= 0;
  const write = a.kind === 'write';
  // c. a write to a shadowed frame.
  if (write && backed && ctx.hash.isShadowed(page)) {
    if (!a.user) {
      emulateWrite(ctx, v, a, 'pt_write');
      return { kind: 'stop' };
    }
    ctx.machine.log.append(shRemoveShadows(ctx, page, false, 'user_mode'));
    ctx.flushPending();
    if (ctx.hash.isShadowed(page)) ctx.crash(`user-mode write to page table gfn ${hex(page)} in use as CR3`);
    return { kind: 'retry' };
  }
  // d. not RAM: the null handler.
  if (!backed) {
    const value = completeMmio(ctx, v, a, a.addr, false);
    return a.kind === 'fetch' ? { kind: 'stop' } : { kind: 'done', value };
  }
  // e. CR0.WP clear: a faulting supervisor write is emulated.
  if (write && !a.user && !ctx.guestWp(v)) {
    emulateWrite(ctx, v, a, 'wp');
    return { kind: 'stop' };
  }
  // f. fixed up.
  ctx.vcpuState(v).lastEmulatedGfn = -1;
  ctx.machine.log.append({
    class: 'fixup',
    va: a.addr,
    access: a.kind,
    cpl: a.user ? 3 : 0,
    gfn: page,
    made: [],
    ad_set: [],
    flags: [],
    sl1_index: page % 512,
    explanation: describeFixup({
      access: a.kind,
      va: a.addr,
      gfn: page,
      made: [],
      adCount: 0,
      unsync: false,
      sl1Index: page % 512,
      pagingOff: true,
    }),
  });
  ctx.flushPending();
  return { kind: 'retry' };
}

function fillEntry(ctx: ShadowContext, page: number): void {
  if (ctx.gfnToMfn(page) < 0) ctx.unpaged.set(page, UNPAGED_MAGIC);
  else ctx.unpaged.set(page, ctx.hash.isShadowed(page) ? UNPAGED_RAM_RO : UNPAGED_RAM_RW);
}
