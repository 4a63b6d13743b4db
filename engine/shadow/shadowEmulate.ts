/**
 * R5.2 and R7.3/R7.4: Xen performs a trapped write itself (`sh_page_fault` `emulate:` →
 * `x86_emulate` → `hvm_emulate_write` → `sh_emulate_map_dest` / `sh_emulate_unmap_dest`,
 * xen/arch/x86/mm/shadow/hvm.c): translate, unshadow a misaligned or page-crossing target, write the
 * guest memory, guess at teardown (early unshadow), validate every overlapped entry into every
 * shadow of the frame, and log `emulate`. No TLB entry is filled; the guest sees no fault.
 */
import { clearFault, describeAccess, hex, raisePageFault } from '../machine/guestFaults';
import { allOnes, splitAccess } from '../machine/splitAccess';
import type { ShadowTypeName } from '../events/eventTypes';
import type { Vcpu } from '../machine/vcpu';
import type { Walk } from '../paging/walkTables';
import { toVa48 } from '../paging/virtualAddress';
import type { ShadowContext } from './shadowContext';
import { describeEmulate } from './shadowExplanations';
import { guestWalk } from './shadowFacts';
import type { ShadowAccess } from './shadowMmio';
import type { ValidationResult } from './shadowValidate';
import { validateGuestPtWrite } from './shadowValidate';
import { shRemoveShadows, unshadowCaused } from './unshadow';

export type EmulateReason = 'pt_write' | 'wp';

/**
 * Emulates the whole write of `a` (both pages when it crosses one). `faultWalk` is the shadow fault's
 * own guest walk for the write at `a.addr`, if any: it already set the A/D bits and nothing since has
 * changed guest memory, so the emulator's translation of that page gives the same frame.
 */
export function emulateWrite(
  ctx: ShadowContext,
  v: Vcpu,
  a: ShadowAccess,
  reason: EmulateReason,
  faultWalk?: Walk,
): void {
  const pagingOn = ctx.pagingOn(v);
  const pieces = splitAccess(a.va, a.size);
  /** The shadow types of the first frame when the write trapped (for the explanation). */
  let types: ShadowTypeName[] = [];
  // The low address bits, as numbers: this is the hot path of every emulated page-table write.
  const low = Number(a.va & 0xfffn);
  const misaligned = (low & (a.size - 1)) !== 0;
  // 1. translate (sh_emulate_map_dest → emulate_gva_to_mfn), A/D set as by the walk; 2. a
  // misaligned write is probably not to a page table: sh_emulate_map_dest unshadows the first frame
  // before it translates the second page, so that unshadow stands even when the second page faults.
  const gfns: number[] = [];
  for (const piece of pieces) {
    if (gfns.length === 1) {
      types = ctx.hash.shadowsOf(gfns[0]).map((sp) => sp.type);
      if (misaligned) unshadowCaused(ctx, gfns[0], false, 'misaligned');
    }
    if (!pagingOn) {
      gfns.push(Number(piece.addr >> 12n));
      continue;
    }
    const walk =
      faultWalk !== undefined && piece.addr >> 12n === a.addr >> 12n
        ? faultWalk
        : guestWalk(ctx, v, toVa48(piece.addr), 'write', true);
    if (!walk.ok) {
      ctx.flushPending();
      raisePageFault(ctx.machine.log, v, {
        addr: piece.addr,
        code: walk.errorCode,
        access: 'write',
        va: a.va,
        cause: walk.cause ?? 'not_present',
        level: walk.faultLevel,
        entry: null,
        rule: 'R5.2',
        what: `emulated ${describeAccess('write', a.va)} cannot translate ${hex(piece.addr)}`,
        chain: 'sh_page_fault → hvm_emulate_write → sh_emulate_map_dest → emulate_gva_to_mfn',
      });
      return;
    }
    gfns.push(walk.frame);
  }
  if (pieces.length === 1) {
    types = ctx.hash.shadowsOf(gfns[0]).map((sp) => sp.type);
    if (misaligned) unshadowCaused(ctx, gfns[0], false, 'misaligned');
  }
  // A page-crossing write is probably not to a page table either.
  if (gfns.length === 2) unshadowCaused(ctx, gfns[1], false, 'cross_page');
  // 3. the write itself.
  let rest = a.value;
  for (let i = 0; i < pieces.length; i++) {
    const mfn = ctx.gfnToMfn(gfns[i]);
    if (mfn >= 0) ctx.memory.writeBytes(mfn, pieces[i].offset, pieces[i].size, rest);
    if (i + 1 < pieces.length) rest >>= BigInt(pieces[i].size * 8);
  }
  // 4. early unshadow (check_for_early_unshadow): two emulated zero writes in a row to one table.
  const vs = ctx.vcpuState(v);
  if (a.size >= 4 && (a.value & 0xffff_ffffn) === 0n) {
    if ((low & (pagingOn ? 7 : 3)) === 0) {
      if (vs.lastEmulatedGfn === gfns[0] && ctx.hash.isShadowed(gfns[0])) {
        ctx.emitCaused(shRemoveShadows(ctx, gfns[0], true, 'early'));
      }
      vs.lastEmulatedGfn = gfns[0];
    }
  } else {
    vs.lastEmulatedGfn = -1;
  }
  // 5. validate every overlapped entry of each frame.
  const results: ValidationResult[] = pieces.map((piece, i) =>
    validateGuestPtWrite(ctx, v, gfns[i], piece.offset >> 3, (piece.offset + piece.size - 1) >> 3),
  );
  const validated = results.length === 1 ? results[0].validated : results.flatMap((r) => r.validated);
  // 6. the trap's own event, then what it caused.
  ctx.machine.log.append({
    class: 'emulate',
    va: a.va,
    gfn: gfns[0],
    offset: pieces[0].offset,
    size: a.size,
    value: a.size === 8 ? a.value : a.value & allOnes(a.size),
    reason,
    validated,
    tlb_flush: results.some((r) => r.flush),
    explanation: describeEmulate(gfns[0], types, reason, validated),
  });
  ctx.flushPending();
  clearFault(v);
}
