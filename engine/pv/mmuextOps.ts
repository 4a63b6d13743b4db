/**
 * `mmuext OP, ARG` (xen-semantics.md §6, `do_mmuext_op`): pinning and unpinning tables, the kernel
 * and user base pointers (`new_guest_cr3`, shared with the emulated `mov cr3`), and the TLB
 * operations. A pin or a base pointer holds one general and one type reference on its frame;
 * taking the type at count 0 validates the table, so pinning is never required to use a table.
 */
import type { MmuextOp } from '../language/host';
import { PageType } from '../machine/frameTable';
import { PTE_A, PTE_HI_NX, PTE_P, PTE_US } from '../paging/pte';
import { isCanonical, toVa48 } from '../paging/virtualAddress';
import type { PvContext, PvVcpu } from './pvContext';
import { EINVAL, HOLDER_BASEPTR, HOLDER_PIN, HOLDER_USER_BASEPTR } from './pvContext';
import { ownedFrame } from './mmuUpdate';
import {
  getPage,
  getPageAndTypeFromMfn,
  getPageType,
  PAGE_NAMES,
  putOldGuestTable,
  putPage,
  putPageAndType,
} from './pageRefs';
import { describeFrame, describeOwner, hex, refuse } from './refusalExplanations';
import { flushTlbFull, flushTlbOne } from './tlbClock';
import { RO_MPT_SLOT } from './validateTables';

const PIN_TYPES: Partial<Record<MmuextOp, PageType>> = {
  pin_l1_table: PageType.L1PageTable,
  pin_l2_table: PageType.L2PageTable,
  pin_l3_table: PageType.L3PageTable,
  pin_l4_table: PageType.L4PageTable,
};

const TWO_20 = 0x100000;

/** `__addr_ok`: below 2^47 or at or above the end of Xen's slots. */
export function addrOk(va: bigint): boolean {
  return va < 1n << 47n || va >= 0xffff_8800_0000_0000n;
}

/** -EINVAL for a frame the domain does not own (`rule`: the rule whose check refused it). */
function notOwned(
  ctx: PvContext,
  rule: string,
  fn: string[],
  effect: string,
  arg: bigint,
  d: number,
): number {
  const valid = arg < BigInt(ctx.ft.frameCount);
  return refuse(
    ctx,
    -EINVAL,
    rule,
    fn,
    effect,
    valid ? `${describeOwner(ctx, Number(arg))}, not to domain ${d}` : `mfn ${hex(arg)} does not exist`,
    null,
    valid ? Number(arg) : null,
    null,
  );
}

/** Runs one op; finishes a pending tear-down first and any new one before returning. */
export function doMmuextOp(ctx: PvContext, v: PvVcpu, op: MmuextOp, arg: bigint): number {
  putOldGuestTable(ctx, v);
  const rc = runOp(ctx, v, op, arg);
  putOldGuestTable(ctx, v);
  return rc;
}

function runOp(ctx: PvContext, v: PvVcpu, op: MmuextOp, arg: bigint): number {
  const d = v.domain.id;
  const pinType = PIN_TYPES[op];
  if (pinType !== undefined) return pinTable(ctx, v, pinType, arg);
  switch (op) {
    case 'unpin_table':
      return unpinTable(ctx, d, arg);
    case 'new_baseptr':
      return newGuestCr3(ctx, v, arg, 'mmuext');
    case 'new_user_baseptr':
      return newUserBaseptr(ctx, v, arg);
    case 'tlb_flush_local':
      flushTlbFull(ctx, [v], 'mmuext');
      return 0;
    case 'tlb_flush_all':
      flushTlbFull(ctx, ctx.vcpusOf(d), 'mmuext');
      return 0;
    case 'invlpg_local':
      if (isCanonical(arg)) flushTlbOne(ctx, [v], arg, toVa48(arg), 'mmuext');
      return 0;
    case 'invlpg_all':
      if (addrOk(arg)) flushTlbOne(ctx, ctx.vcpusOf(d), arg, toVa48(arg), 'mmuext');
      return 0;
    default:
      return 0;
  }
}

/** R6.1 */
function pinTable(ctx: PvContext, v: PvVcpu, type: PageType, arg: bigint): number {
  const d = v.domain.id;
  const fn = 'do_mmuext_op';
  const mfn = ownedFrame(ctx, arg, d);
  if (mfn < 0)
    return notOwned(ctx, 'R6.1', ['do_mmuext_op', 'get_page_from_gfn'], `pin mfn ${hex(arg)}`, arg, d);
  getPage(ctx, mfn, d, HOLDER_PIN);
  const rc = getPageType(ctx, mfn, type, HOLDER_PIN);
  if (rc !== 0) {
    if (mfn !== v.oldGuestTable) putPage(ctx, mfn, HOLDER_PIN);
    if (ctx.reason !== null && ctx.reason.chain[0] === 'get_page_type')
      ctx.reason.chain.unshift('do_mmuext_op');
    return rc;
  }
  const ft = ctx.ft;
  if (ft.pinned(mfn)) {
    putPageAndType(ctx, mfn, HOLDER_PIN);
    return refuse(
      ctx,
      -EINVAL,
      'R6.1',
      [fn],
      `pin mfn ${hex(mfn)} as ${PAGE_NAMES[type]}`,
      describeFrame(ctx, mfn),
      null,
      mfn,
      null,
    );
  }
  ft.setPinned(mfn, true);
  ctx.emit({ class: 'pin', mfn, type: PAGE_NAMES[type] });
  return 0;
}

/** R6.2 */
function unpinTable(ctx: PvContext, d: number, arg: bigint): number {
  const mfn = ownedFrame(ctx, arg, d);
  if (mfn < 0)
    return notOwned(ctx, 'R6.2', ['do_mmuext_op', 'get_page_from_gfn'], `unpin mfn ${hex(arg)}`, arg, d);
  const ft = ctx.ft;
  if (!ft.pinned(mfn)) {
    return refuse(
      ctx,
      -EINVAL,
      'R6.2',
      ['do_mmuext_op'],
      `unpin mfn ${hex(mfn)}`,
      `${describeFrame(ctx, mfn)}, not pinned`,
      null,
      mfn,
      null,
    );
  }
  ft.setPinned(mfn, false);
  ctx.emit({ class: 'unpin', mfn, type: PAGE_NAMES[ft.type(mfn)] });
  putPageAndType(ctx, mfn, HOLDER_PIN);
  return 0;
}

/** `fill_ro_mpt` (R3.7): slot 256 of a new kernel base pointer gets the read-only M2P. */
function fillRoMpt(ctx: PvContext, l4: number): void {
  const mem = ctx.mem;
  if (mem.readLo(l4, RO_MPT_SLOT) !== 0 || mem.readHi(l4, RO_MPT_SLOT) !== 0) return;
  const l3 = ctx.machine.layout.l3RoMpt;
  mem.writeEntry(
    l4,
    RO_MPT_SLOT,
    ((l3 % TWO_20) * 4096 + (PTE_P | PTE_US | PTE_A)) >>> 0,
    (Math.floor(l3 / TWO_20) | PTE_HI_NX) >>> 0,
  );
}

/** `new_guest_cr3` (R6.3, R8.1): 0 or a negative errno. */
export function newGuestCr3(ctx: PvContext, v: PvVcpu, arg: bigint, via: 'mmuext' | 'mov_cr3'): number {
  putOldGuestTable(ctx, v);
  const cause = via === 'mov_cr3' ? 'mov_cr3' : 'new_baseptr';
  const old = v.kernelBase;
  if (arg === BigInt(old)) {
    flushTlbFull(ctx, [v], cause);
    return 0;
  }
  const d = v.domain.id;
  const valid = arg < BigInt(ctx.ft.frameCount);
  if (!valid)
    // As for a frame of another domain: get_page refuses it (R2.6 via R2.1).
    return notOwned(
      ctx,
      'R2.6',
      ['new_guest_cr3', 'get_page_and_type_from_mfn'],
      `load mfn ${hex(arg)}`,
      arg,
      d,
    );
  const mfn = Number(arg);
  const rc = getPageAndTypeFromMfn(ctx, mfn, PageType.L4PageTable, d, HOLDER_BASEPTR);
  if (rc !== 0) {
    if (ctx.reason !== null && !ctx.reason.chain[0].startsWith('promote_'))
      ctx.reason.chain.unshift('new_guest_cr3');
    return rc;
  }
  fillRoMpt(ctx, mfn);
  v.kernelBase = mfn;
  ctx.emit({ class: 'baseptr', which: 'kernel', old, new: mfn, via });
  flushTlbFull(ctx, [v], cause);
  if (old !== 0) putPageAndType(ctx, old, HOLDER_BASEPTR);
  return 0;
}

/** R6.4 */
function newUserBaseptr(ctx: PvContext, v: PvVcpu, arg: bigint): number {
  const old = v.userBase;
  if (arg === BigInt(old)) return 0;
  const d = v.domain.id;
  let mfn = 0;
  if (arg !== 0n) {
    if (arg >= BigInt(ctx.ft.frameCount))
      return notOwned(
        ctx,
        'R2.6',
        ['do_mmuext_op', 'get_page_and_type_from_mfn'],
        `load mfn ${hex(arg)} as the user base pointer`,
        arg,
        d,
      );
    mfn = Number(arg);
    const rc = getPageAndTypeFromMfn(ctx, mfn, PageType.L4PageTable, d, HOLDER_USER_BASEPTR);
    if (rc !== 0) {
      if (ctx.reason !== null && !ctx.reason.chain[0].startsWith('promote_'))
        ctx.reason.chain.unshift('do_mmuext_op');
      return rc;
    }
  }
  v.userBase = mfn;
  ctx.emit({ class: 'baseptr', which: 'user', old, new: mfn, via: 'mmuext' });
  if (old !== 0) putPageAndType(ctx, old, HOLDER_USER_BASEPTR);
  return 0;
}
