/**
 * Validation and devalidation of page-table frames (xen-semantics.md §3–§4): `promote_l1_table` …
 * `promote_l4_table`, the entry checks `get_page_from_l1e` … `get_page_from_l4e` with the linear
 * page-table rule, the releases `put_page_from_l1e` …, and `demote_lN_table`.
 *
 * Validation walks a table from entry 0 to 511, takes each present entry's references and writes
 * the entry back adjusted (R3.8). The first failing entry stops it. An L1 gives back what it took at
 * once; an L2–L4 that failed past entry 0 is parked as the vCPU's `old_guest_table` with its
 * entries' references still held, exactly as Xen does, and is torn down by `putOldGuestTable` —
 * before the hypercall returns, or (after a failed `mov cr3`) when R8.1a says.
 *
 * Entries are read as two 32-bit halves (`lo`, `hi`): the hot loop never touches a BigInt.
 */
import {
  FRAME_CHUNK_SIZE,
  FRAME_FLAG_VALIDATED,
  FRAME_FLAGS_TYPE_MASK,
  PageType,
} from '../machine/frameTable';
import {
  PTE_A,
  PTE_D,
  PTE_G,
  PTE_HI_NX,
  PTE_P,
  PTE_RW,
  PTE_US,
  describeFlags,
  joinEntry,
} from '../paging/pte';
import type { PvContext } from './pvContext';
import { EBUSY, EINVAL, EPERM, entryHolder, HOLDER_PENDING } from './pvContext';
import {
  addLinear,
  getPage,
  getPageAndTypeFromMfn,
  getPageType,
  PAGE_NAMES,
  putPage,
  putPageType,
  resetTypeInfo,
} from './pageRefs';
import type { EntryRef } from './refusalExplanations';
import { describeFrame, describeOwner, hex, refuse, wrapReason } from './refusalExplanations';

/** Low-half flag bits that make a present entry fail (R3.1); the high half has none. */
export const L1_DISALLOW_LO = 0x98;
export const UPPER_DISALLOW_LO = 0x198;
/** bit 52 (`_PAGE_GUEST_KERNEL`) as a bit of the high half. */
const HI_GUEST_KERNEL = 0x100000;
const TWO_20 = 0x100000;
/** 0xFF_FFFF_FFFF: INVALID_MFN as an L1 entry's 40-bit frame field. */
const INVALID_MFN = 0xff_ffff_ffff;
export const XEN_SLOT_FIRST = 256;
export const XEN_SLOT_LAST = 271;
export const LINEAR_SLOT = 258;
export const RO_MPT_SLOT = 256;

export function entryMfn(lo: number, hi: number): number {
  return (hi & 0xfffff) * TWO_20 + (lo >>> 12);
}

export function isXenL4Slot(index: number): boolean {
  return index >= XEN_SLOT_FIRST && index <= XEN_SLOT_LAST;
}

/** R3.8, L1: a kernel page becomes `US | bit 52`, a user page `US | G`. Returns the new low half. */
export function adjustL1Lo(lo: number, hi: number): number {
  if ((lo & PTE_US) === 0) return lo | PTE_US;
  return (hi & HI_GUEST_KERNEL) === 0 ? lo | PTE_G : lo;
}

export function adjustL1Hi(lo: number, hi: number): number {
  return (lo & PTE_US) === 0 ? (hi | HI_GUEST_KERNEL) >>> 0 : hi;
}

export function adjustUpperLo(level: number, lo: number): number {
  return level === 4 ? lo | PTE_US | PTE_A : lo | PTE_US;
}

function entryRef(mfn: number, level: number, index: number, lo: number, hi: number): EntryRef {
  return { mfn, level, index, value: joinEntry(lo >>> 0, hi >>> 0) };
}

function isControlDomain(ctx: PvContext, id: number): boolean {
  return ctx.domain(id)?.config.privileged === true;
}

/** `paging_mode_external`: an HVM domain's frames take no WRITABLE references from foreign maps. */
export function isExternal(ctx: PvContext, id: number): boolean {
  return ctx.isExternal(id);
}

/** `get_page_from_l1e(E, l1e_owner, pg_owner)` (R3.3). */
export function getPageFromL1e(
  ctx: PvContext,
  lo: number,
  hi: number,
  l1Mfn: number,
  index: number,
  l1eOwner: number,
  pgOwner: number,
  holder: number,
): number {
  if ((lo & L1_DISALLOW_LO) !== 0) {
    return refuse(
      ctx,
      -EINVAL,
      'R3.1',
      ['get_page_from_l1e'],
      `set ${describeFlags(BigInt(lo & L1_DISALLOW_LO))}`,
      'L1_DISALLOW_MASK forbids it',
      entryRef(l1Mfn, 1, index, lo, hi),
      l1Mfn,
      null,
    );
  }
  const ft = ctx.ft;
  const mfn = entryMfn(lo, hi);
  if (mfn >= ft.frameCount) {
    const invalid = mfn === INVALID_MFN;
    return refuse(
      ctx,
      invalid ? -EINVAL : -EPERM,
      'R3.3',
      ['get_page_from_l1e'],
      `map mfn ${hex(mfn)}`,
      invalid
        ? 'that is INVALID_MFN'
        : `the machine has ${hex(ft.frameCount)} frames and the domain has no I/O memory permission`,
      entryRef(l1Mfn, 1, index, lo, hi),
      l1Mfn,
      null,
    );
  }
  // Hot path: one chunk lookup for the owner and the general count.
  const chunk = ft.writableChunk(mfn);
  const slot = mfn & (FRAME_CHUNK_SIZE - 1);
  const count = chunk.refCount[slot];
  const realOwner = chunk.owner[slot];
  let owner = pgOwner;
  if (count === 0 || realOwner !== pgOwner) {
    // The XSM "privileged mapping" hook: a foreign update on behalf of a control domain.
    if (count === 0 || pgOwner === l1eOwner || !isControlDomain(ctx, pgOwner)) {
      return refuse(
        ctx,
        -EBUSY,
        'R3.3',
        ['get_page_from_l1e'],
        `map mfn ${hex(mfn)}`,
        count === 0 ? describeFrame(ctx, mfn) : `${describeOwner(ctx, mfn)}, not to domain ${pgOwner}`,
        entryRef(l1Mfn, 1, index, lo, hi),
        l1Mfn,
        mfn,
      );
    }
    owner = realOwner;
  }
  chunk.refCount[slot] = count + 1;
  // The hot paths test `entryEvents` before the call: a call per reference is a tenth of a
  // validated update when nothing logs them.
  if (ctx.entryEvents) ctx.refEvent(true, mfn, 'general', holder);
  if ((lo & PTE_RW) !== 0 && (l1eOwner === owner || !isExternal(ctx, owner))) {
    const flags = chunk.flags[slot];
    const typeCount = chunk.typeCount[slot];
    if (
      (flags & FRAME_FLAGS_TYPE_MASK) === PageType.Writable &&
      (typeCount > 0 || (flags & FRAME_FLAG_VALIDATED) !== 0)
    ) {
      // get_page_type(WRITABLE) of a frame already WRITABLE (R2.3 steps 1 and 3 without a type
      // change): one more type reference, validated stays set.
      chunk.typeCount[slot] = typeCount + 1;
      chunk.flags[slot] = flags | FRAME_FLAG_VALIDATED;
      if (ctx.entryEvents) ctx.refEvent(true, mfn, 'type', holder);
    } else if (getPageType(ctx, mfn, PageType.Writable, holder) !== 0) {
      const fact = describeFrame(ctx, mfn);
      putPage(ctx, mfn, holder);
      return refuse(
        ctx,
        -EBUSY,
        'R3.3',
        ['get_page_from_l1e', 'get_page_type'],
        `map mfn ${hex(mfn)} writable`,
        fact,
        entryRef(l1Mfn, 1, index, lo, hi),
        l1Mfn,
        mfn,
      );
    }
  }
  return 0;
}

/** `put_page_from_l1e(E, l1e_owner)` (§4). */
export function putPageFromL1e(
  ctx: PvContext,
  lo: number,
  hi: number,
  l1eOwner: number,
  holder: number,
): void {
  if ((lo & PTE_P) === 0) return;
  const mfn = entryMfn(lo, hi);
  if (mfn >= ctx.ft.frameCount) return;
  // One chunk lookup: the WRITABLE type reference never devalidates anything, so the chunk stays.
  const chunk = ctx.ft.writableChunk(mfn);
  const slot = mfn & (FRAME_CHUNK_SIZE - 1);
  const owner = chunk.owner[slot];
  if ((lo & PTE_RW) !== 0 && (owner === l1eOwner || !isExternal(ctx, owner))) {
    const count = chunk.typeCount[slot];
    if ((chunk.flags[slot] & FRAME_FLAGS_TYPE_MASK) === PageType.Writable && count > 0) {
      // put_page_type of a WRITABLE reference (R2.4): no devalidation, the stamp at count 0.
      chunk.typeCount[slot] = count - 1;
      if (ctx.entryEvents) ctx.refEvent(false, mfn, 'type', holder);
      if (count === 1) chunk.stamp[slot] = ctx.clock;
    } else {
      putPageType(ctx, mfn, holder);
    }
  }
  chunk.refCount[slot]--; // put_page
  if (ctx.entryEvents) ctx.refEvent(false, mfn, 'general', holder);
}

/** `get_page_from_l2e` … `get_page_from_l4e` (R3.4) with the linear rule (R3.6). */
export function getPageFromUpperEntry(
  ctx: PvContext,
  level: number,
  lo: number,
  hi: number,
  table: number,
  index: number,
  d: number,
): number {
  const fn = `get_page_from_l${level}e`;
  if ((lo & UPPER_DISALLOW_LO) !== 0) {
    const mask = level === 3 ? 'l3_disallow_mask' : `L${level}_DISALLOW_MASK`;
    return refuse(
      ctx,
      -EINVAL,
      'R3.1',
      [fn],
      `set ${describeFlags(BigInt(lo & UPPER_DISALLOW_LO))}`,
      `${mask} forbids it`,
      entryRef(table, level, index, lo, hi),
      table,
      null,
    );
  }
  const holder = entryHolder(table, level, index);
  const target = entryMfn(lo, hi);
  const rc = getPageAndTypeFromMfn(ctx, target, level - 1, d, holder);
  if (rc === 0) return 0;
  if (rc === -EINVAL) {
    const saved = ctx.reason;
    if (getLinearPagetable(ctx, level, lo, hi, table, index, target, d, holder)) {
      ctx.reason = null;
      return 0;
    }
    const linearAttempt = target === table || (ctx.ft.isValid(target) && ctx.ft.type(target) === level);
    if (!linearAttempt) ctx.reason = saved;
    else return rc;
  }
  wrapReason(ctx, fn, entryRef(table, level, index, lo, hi));
  return rc;
}

/** `get_lN_linear_pagetable` (R3.6); records a reason when it refuses. */
function getLinearPagetable(
  ctx: PvContext,
  level: number,
  lo: number,
  hi: number,
  table: number,
  index: number,
  target: number,
  d: number,
  holder: number,
): boolean {
  const ft = ctx.ft;
  const chain = [`get_page_from_l${level}e`, `get_l${level}_linear_pagetable`];
  const e = entryRef(table, level, index, lo, hi);
  const what = `map L${level} mfn ${hex(target)} as a linear page table`;
  const no = (fact: string, targetMfn: number | null): boolean => {
    refuse(ctx, -EINVAL, 'R3.6', chain, what, fact, e, table, targetMfn);
    return false;
  };
  if ((lo & PTE_RW) !== 0)
    return no('linear entries must be read-only (RW is set)', ft.isValid(target) ? target : null);
  if (target === table) return true;
  if (ft.owner(table) !== d) return no(`mfn ${hex(table)} does not belong to domain ${d}`, null);
  if (!getPage(ctx, target, d, holder))
    return no(describeOwner(ctx, target), ft.isValid(target) ? target : null);
  if ((ctx.linear.get(table) ?? 0) < 0) {
    putPage(ctx, target, holder);
    return no(`mfn ${hex(table)} is itself the target of another table's linear entry`, target);
  }
  if ((ctx.linear.get(target) ?? 0) > 0) {
    putPage(ctx, target, holder);
    return no(`mfn ${hex(target)} itself holds linear entries to other tables`, target);
  }
  if (ft.type(target) !== level || !ft.validated(target)) {
    const fact = describeFrame(ctx, target);
    putPage(ctx, target, holder);
    return no(`${fact}, not a validated L${level} page table`, target);
  }
  addLinear(ctx, table, 1);
  addLinear(ctx, target, -1);
  ft.setTypeCount(target, ft.typeCount(target) + 1);
  ctx.refEvent(true, target, 'type', holder);
  return true;
}

/** `put_page_from_l2e` … `put_page_from_l4e` (§4): self-maps and not-present entries hold nothing. */
export function putPageFromUpperEntry(
  ctx: PvContext,
  lo: number,
  hi: number,
  table: number,
  holder: number,
): void {
  if ((lo & PTE_P) === 0) return;
  const target = entryMfn(lo, hi);
  if (target === table) return;
  putPageType(ctx, target, holder, table);
  putPage(ctx, target, holder);
}

/** `validate_page` / `alloc_page_type` (R2.3, R2.5): validates a frame whose type count just became 1. */
export function validatePage(ctx: PvContext, mfn: number, type: PageType, holder: number): number {
  const rc = type === PageType.L1PageTable ? promoteL1Table(ctx, mfn) : promoteUpperTable(ctx, mfn, type);
  const fn = `promote_l${type}_table`;
  if (rc === 0) {
    ctx.ft.setValidated(mfn, true);
    ctx.emit({
      class: 'validate',
      mfn,
      type: PAGE_NAMES[type],
      ok: true,
      failed_index: null,
      rc: 0n,
      xen_function: fn,
    });
    return 0;
  }
  ctx.emit({
    class: 'validate',
    mfn,
    type: PAGE_NAMES[type],
    ok: false,
    failed_index: ctx.failedIndex,
    rc: (1n << 64n) + BigInt(rc),
    xen_function: fn,
  });
  if (mfn !== ctx.current.oldGuestTable) {
    resetTypeInfo(ctx, mfn, holder);
  } else {
    // Parked: Xen's `get_page_light` and PGT_partial; the type reference stays at 1.
    ctx.ft.setRefCount(mfn, ctx.ft.refCount(mfn) + 1);
    ctx.refEvent(true, mfn, 'general', HOLDER_PENDING);
  }
  return rc;
}

/** `promote_l1_table` (R3.2, R3.3, R2.5, R2.5a). */
export function promoteL1Table(ctx: PvContext, l1: number): number {
  const owner = ctx.ft.owner(l1);
  const mem = ctx.mem;
  const words = mem.frameWords(l1);
  for (let i = 0; i < 512; i++) {
    const lo = words[i << 1];
    if ((lo & PTE_P) === 0) continue;
    const hi = words[(i << 1) | 1];
    const rc = getPageFromL1e(ctx, lo, hi, l1, i, owner, owner, entryHolder(l1, 1, i));
    if (rc !== 0) {
      const now = mem.frameWords(l1);
      for (let j = i - 1; j >= 0; j--)
        putPageFromL1e(ctx, now[j << 1], now[(j << 1) | 1], owner, entryHolder(l1, 1, j));
      wrapReason(ctx, 'promote_l1_table', null);
      ctx.failedIndex = i;
      return rc;
    }
    const nlo = adjustL1Lo(lo, hi);
    const nhi = adjustL1Hi(lo, hi);
    if (nlo !== lo || nhi !== hi) mem.writeEntry(l1, i, nlo >>> 0, nhi);
  }
  return 0;
}

/** `promote_l2_table` … `promote_l4_table` (R3.2, R3.4, R3.7, R2.5, R2.5a, R2.5b). */
export function promoteUpperTable(ctx: PvContext, table: number, level: number): number {
  const owner = ctx.ft.owner(table);
  const mem = ctx.mem;
  for (let i = 0; i < 512; i++) {
    if (level === 4 && isXenL4Slot(i)) continue;
    const lo = mem.readLo(table, i);
    if ((lo & PTE_P) === 0) continue;
    const hi = mem.readHi(table, i);
    const rc = getPageFromUpperEntry(ctx, level, lo, hi, table, i, owner);
    if (rc !== 0) {
      if (i > 0) parkPartialTable(ctx, table, level, i, entryMfn(lo, hi));
      wrapReason(ctx, `promote_l${level}_table`, null);
      ctx.failedIndex = i;
      return rc;
    }
    const nlo = adjustUpperLo(level, lo);
    if (nlo !== lo) mem.writeEntry(table, i, nlo >>> 0, hi);
  }
  if (level === 4) initXenL4Slots(ctx, table);
  return 0;
}

/** Xen parks a table that failed past entry 0 as `old_guest_table` (R2.5, R2.5b, R8.1a). */
function parkPartialTable(
  ctx: PvContext,
  table: number,
  level: number,
  index: number,
  failingTarget: number,
): void {
  const v = ctx.current;
  let partialSet = false;
  const parked = v.oldGuestTable;
  if (parked >= 0) {
    if (parked === failingTarget) {
      partialSet = true;
    } else {
      // R2.5b: the parked table is not the one this entry names; a release build leaks it.
      const st = ctx.partial.get(parked);
      const j = st?.nrValidated ?? 0;
      ctx.lost.set(parked, j);
      ctx.emit({
        class: 'partial_validation',
        mfn: parked,
        type: PAGE_NAMES[ctx.ft.type(parked)],
        index: j,
        state: 'lost',
        explanation:
          `mfn ${hex(parked)}, partly validated as ${PAGE_NAMES[ctx.ft.type(parked)]} up to entry ${j}, would be torn down, ` +
          `but L${level} mfn ${hex(table)} failed at entry ${index}, which names mfn ${hex(failingTarget)} instead, ` +
          `so Xen parks mfn ${hex(table)} in its place and the table keeps its references for ever \u2014 ` +
          `promote_l${level}_table`,
      });
    }
  }
  ctx.partial.set(table, { nrValidated: index, partialSet });
  v.oldGuestTable = table;
}

/** `init_xen_l4_slots` (R3.7): slot 258 the linear map, the other Xen slots 0. */
function initXenL4Slots(ctx: PvContext, l4: number): void {
  for (let i = XEN_SLOT_FIRST; i <= XEN_SLOT_LAST; i++) {
    if (i === LINEAR_SLOT) {
      ctx.mem.writeEntry(
        l4,
        i,
        ((l4 % TWO_20) * 4096 + (PTE_P | PTE_RW | PTE_A | PTE_D)) >>> 0,
        (Math.floor(l4 / TWO_20) | PTE_HI_NX) >>> 0,
      );
    } else if (ctx.mem.readLo(l4, i) !== 0 || ctx.mem.readHi(l4, i) !== 0) {
      ctx.mem.writeEntry(l4, i, 0, 0);
    }
  }
}

/** `demote_l1_table` … `demote_l4_table` (R2.4): releases every entry; returns how many. */
export function demoteTable(
  ctx: PvContext,
  table: number,
  level: number,
  partial: { nrValidated: number; partialSet: boolean } | undefined,
): number {
  const mem = ctx.mem;
  let released = 0;
  if (level === PageType.L1PageTable) {
    const owner = ctx.ft.owner(table);
    const words = mem.frameWords(table);
    for (let i = 0; i < 512; i++) {
      const lo = words[i << 1];
      if ((lo & PTE_P) === 0) continue;
      putPageFromL1e(ctx, lo, words[(i << 1) | 1], owner, entryHolder(table, 1, i));
      released++;
    }
    return released;
  }
  const start = partial === undefined ? 511 : partial.nrValidated - (partial.partialSet ? 0 : 1);
  for (let i = start; i >= 0; i--) {
    if (level === 4 && isXenL4Slot(i)) continue;
    const lo = mem.readLo(table, i);
    if ((lo & PTE_P) === 0) continue;
    putPageFromUpperEntry(ctx, lo, mem.readHi(table, i), table, entryHolder(table, level, i));
    released++;
  }
  return released;
}
