/**
 * Xen's reference primitives (xen-semantics.md §2): `get_page`/`put_page` on the general count,
 * `get_page_type`/`put_page_type` on the type count, and `get_page_and_type_from_mfn`.
 *
 * A type reference taken at count 0 may change the frame's type (with the TLB-clock flush of
 * R10.4) and, for a page-table type, validates the frame (`validateTables.ts`). The last type
 * reference of a table devalidates it and releases its entries, which may cascade. A frame that a
 * failed validation parked as `old_guest_table` keeps its type reference and an extra "light"
 * general reference until its tear-down (`putOldGuestTable`), as in Xen.
 *
 * Failure is a value: the functions return 0 or a negative errno and record the reason
 * (`refusalExplanations.ts`) at the check that decided.
 */
import {
  FRAME_CHUNK_SIZE,
  FRAME_FLAG_VALIDATED,
  FRAME_FLAGS_TYPE_MASK,
  PageType,
  STAMP_NEVER,
} from '../machine/frameTable';
import type { PvContext, PvVcpu } from './pvContext';
import { EINVAL, HOLDER_ATTEMPT, HOLDER_PENDING } from './pvContext';
import { describeFrame, describeOwner, hex, refuse } from './refusalExplanations';
import { flushOnTypeChange, stampFrame } from './tlbClock';
import { demoteTable, validatePage } from './validateTables';

/** `get_page(F, d)` (R2.1): one general reference if F exists, is allocated and is owned by `d`. */
export function getPage(ctx: PvContext, mfn: number, d: number, holder: number): boolean {
  const ft = ctx.ft;
  if (!ft.isValid(mfn)) return false;
  const chunk = ft.writableChunk(mfn);
  const slot = mfn & (FRAME_CHUNK_SIZE - 1);
  const count = chunk.refCount[slot];
  if (count === 0 || chunk.owner[slot] !== d) return false;
  chunk.refCount[slot] = count + 1;
  ctx.refEvent(true, mfn, 'general', holder);
  return true;
}

/** `put_page(F)` (R2.2). */
export function putPage(ctx: PvContext, mfn: number, holder: number): void {
  const chunk = ctx.ft.writableChunk(mfn);
  chunk.refCount[mfn & (FRAME_CHUNK_SIZE - 1)]--;
  ctx.refEvent(false, mfn, 'general', holder);
}

/** `_get_page_type(F, T)` (R2.3). */
export function getPageType(ctx: PvContext, mfn: number, type: PageType, holder: number): number {
  const ft = ctx.ft;
  const chunk = ft.writableChunk(mfn);
  const slot = mfn & (FRAME_CHUNK_SIZE - 1);
  const count = chunk.typeCount[slot];
  const flags = chunk.flags[slot];
  const current = (flags & FRAME_FLAGS_TYPE_MASK) as PageType;
  if (count > 0 && current === type && (flags & FRAME_FLAG_VALIDATED) !== 0) {
    // R2.3 step 3, the common case: one more reference to a frame already of this type.
    chunk.typeCount[slot] = count + 1;
    ctx.refEvent(true, mfn, 'type', holder);
    return 0;
  }
  if (count === 0) {
    if (current !== type) {
      ft.setType(mfn, type);
      ft.setValidated(mfn, false);
      const c = ctx.envelope;
      ctx.emitBuilt({
        step: c.step,
        domain: c.domain,
        vcpu: c.vcpu,
        line: c.line,
        class: 'type_change',
        mfn,
        from: PAGE_NAMES[current],
        to: PAGE_NAMES[type],
      });
      // R10.4's flush, logged after the type change that caused it (events.md: `tlb_flush`).
      flushOnTypeChange(ctx, mfn);
    }
    chunk.typeCount[slot] = 1;
    ctx.refEvent(true, mfn, 'type', holder);
    if (type === PageType.Writable) {
      chunk.flags[slot] |= FRAME_FLAG_VALIDATED;
      return 0;
    }
    if ((chunk.flags[slot] & FRAME_FLAG_VALIDATED) === 0) return validatePage(ctx, mfn, type, holder);
    return 0;
  }
  if (current !== type) {
    return refuse(
      ctx,
      -EINVAL,
      'R2.3',
      ['get_page_type'],
      `take a type reference of type ${PAGE_NAMES[type]} on mfn ${hex(mfn)}`,
      describeFrame(ctx, mfn),
      null,
      mfn,
      null,
    );
  }
  if (!ft.validated(mfn)) {
    // A partly validated table (R2.5b, R8.1a). Xen would resume its validation here; the model
    // refuses instead (see the report): no statement of the contract's examples reaches it.
    return refuse(
      ctx,
      -EINVAL,
      'R2.3',
      ['get_page_type'],
      `take a type reference of type ${PAGE_NAMES[type]} on mfn ${hex(mfn)}`,
      describeFrame(ctx, mfn),
      null,
      mfn,
      null,
    );
  }
  ft.setTypeCount(mfn, count + 1);
  ctx.refEvent(true, mfn, 'type', holder);
  return 0;
}

/**
 * `_put_page_type(F)` (R2.4). `parent` is the table whose entry held the reference (Xen's `ptpg`):
 * when it has F's own type the entry was linear (R3.6) and the linear bookkeeping is undone.
 */
export function putPageType(ctx: PvContext, mfn: number, holder: number, parent = -1): void {
  const ft = ctx.ft;
  const chunk = ft.writableChunk(mfn);
  const slot = mfn & (FRAME_CHUNK_SIZE - 1);
  const type = (chunk.flags[slot] & FRAME_FLAGS_TYPE_MASK) as PageType;
  if (parent >= 0 && ft.type(parent) === type) {
    addLinear(ctx, mfn, 1);
    addLinear(ctx, parent, -1);
  }
  const count = chunk.typeCount[slot] - 1;
  if (count > 0 || type < PageType.L1PageTable || type > PageType.L4PageTable) {
    chunk.typeCount[slot] = count;
    ctx.refEvent(false, mfn, 'type', holder);
    // The TLB stamp of R10.4 (`stampFrame`), written in place.
    if (count === 0) chunk.stamp[slot] = ctx.clock;
    return;
  }
  const partial = ctx.partial.get(mfn);
  if (!ft.validated(mfn) && partial === undefined) {
    ft.setTypeCount(mfn, 0);
    ctx.refEvent(false, mfn, 'type', holder);
    stampFrame(ctx, mfn);
    return;
  }
  // Devalidate: clear validated first (others now fail), release the entries, then drop the count.
  ft.setValidated(mfn, false);
  ctx.partial.delete(mfn);
  const released = demoteTable(ctx, mfn, type, partial);
  ctx.emit({ class: 'devalidate', mfn, type: PAGE_NAMES[type], released });
  stampFrame(ctx, mfn);
  ft.setTypeCount(mfn, 0);
  ctx.refEvent(false, mfn, 'type', holder);
  if (partial !== undefined) putPage(ctx, mfn, HOLDER_PENDING);
}

/** `get_page_and_type_from_mfn(M, T, d)` (R2.6). */
export function getPageAndTypeFromMfn(
  ctx: PvContext,
  mfn: number,
  type: PageType,
  d: number,
  holder: number,
): number {
  if (!getPage(ctx, mfn, d, holder)) {
    return refuse(
      ctx,
      -EINVAL,
      'R2.6',
      ['get_page_and_type_from_mfn', 'get_page'],
      `take mfn ${hex(mfn)} as ${PAGE_NAMES[type]} for domain ${d}`,
      describeOwner(ctx, mfn),
      null,
      null,
      ctx.ft.isValid(mfn) ? mfn : null,
    );
  }
  const rc = getPageType(ctx, mfn, type, holder);
  // The general reference stays with a table Xen parked (it belongs to the tear-down).
  if (rc !== 0 && mfn !== ctx.current.oldGuestTable) putPage(ctx, mfn, holder);
  return rc;
}

/** `put_page_and_type(F)`. */
export function putPageAndType(ctx: PvContext, mfn: number, holder: number): void {
  putPageType(ctx, mfn, holder);
  putPage(ctx, mfn, holder);
}

/** `linear_pt_count` bookkeeping (R3.6). */
export function addLinear(ctx: PvContext, mfn: number, delta: number): void {
  const v = (ctx.linear.get(mfn) ?? 0) + delta;
  if (v === 0) ctx.linear.delete(mfn);
  else ctx.linear.set(mfn, v);
}

/**
 * `put_old_guest_table` (R2.5, R8.1a): tears down the table a failed validation parked on this
 * vCPU — its type reference (releasing the entries it had validated, and any parked table below)
 * and the attempt's general reference; the light reference goes with the type reference.
 */
export function putOldGuestTable(ctx: PvContext, v: PvVcpu): void {
  const p = v.oldGuestTable;
  if (p < 0) return;
  const wasPending = v.pending;
  const chain = wasPending ? partialChain(ctx, p) : [];
  putPageType(ctx, p, HOLDER_ATTEMPT);
  putPage(ctx, p, HOLDER_ATTEMPT);
  v.oldGuestTable = -1;
  v.pending = false;
  for (const c of chain) {
    ctx.emit({
      class: 'partial_validation',
      mfn: c.mfn,
      type: PAGE_NAMES[c.type],
      index: c.index,
      state: 'finished',
      explanation: `mfn ${hex(c.mfn)}, partly validated as ${PAGE_NAMES[c.type]} up to entry ${c.index}, is torn down: its entries 0…${c.index - 1} release their references \u2014 put_old_guest_table \u2192 _put_page_type`,
    });
  }
}

/** A parked table and the parked tables its failing entries hand references to (`PTF_partial_set`). */
export function partialChain(ctx: PvContext, top: number): { mfn: number; type: PageType; index: number }[] {
  const out: { mfn: number; type: PageType; index: number }[] = [];
  let cur = top;
  for (let guard = 0; guard < 4; guard++) {
    const st = ctx.partial.get(cur);
    if (st === undefined) break;
    out.push({ mfn: cur, type: ctx.ft.type(cur), index: st.nrValidated });
    if (!st.partialSet) break;
    const lo = ctx.mem.readLo(cur, st.nrValidated);
    const hi = ctx.mem.readHi(cur, st.nrValidated);
    cur = (hi & 0xfffff) * 0x100000 + (lo >>> 12);
  }
  return out;
}

/** R2.5: a failed validation that was not parked resets the frame's type information. */
export function resetTypeInfo(ctx: PvContext, mfn: number, holder: number): void {
  const ft = ctx.ft;
  const from = ft.type(mfn);
  ft.setTypeCount(mfn, 0);
  ft.setValidated(mfn, false);
  ft.setType(mfn, PageType.None);
  ft.setStamp(mfn, STAMP_NEVER);
  ctx.refEvent(false, mfn, 'type', holder);
  if (from !== PageType.None) ctx.emit({ class: 'type_change', mfn, from: PAGE_NAMES[from], to: 'NONE' });
}

export const PAGE_NAMES = ['NONE', 'L1', 'L2', 'L3', 'L4', 'SEG_DESC', 'NONE', 'WRITABLE'] as const;
