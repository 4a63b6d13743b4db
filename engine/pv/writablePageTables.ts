/**
 * Writable page tables (xen-semantics.md §9, `pv_ro_page_fault` → `ptwr_do_page_fault` →
 * `ptwr_emulated_update`). A PV kernel may not hold a writable mapping of its L1 tables, but with
 * the writable-page-tables assist it may *write* through a read-only one: Xen traps the write,
 * merges it into the 8-byte entry, checks the new entry like `mod_l1_entry` (without the fast path)
 * and stores it adjusted. Anything it cannot emulate becomes the original #PF.
 */
import { PageType } from '../machine/frameTable';
import { raisePageFault } from '../machine/guestFaults';
import { PF_P, PF_W, PTE_P, PTE_RW, joinEntry } from '../paging/pte';
import { tableIndex, toVa48 } from '../paging/virtualAddress';
import type { PvContext, PvVcpu } from './pvContext';
import { EINVAL, rcValue } from './pvContext';
import { modL1Entry } from './entryUpdates';
import { addrOk } from './mmuextOps';
import type { Reason } from './refusalExplanations';
import { errnoName, frameFacts, hex } from './refusalExplanations';
import { findGuestL1 } from './updateVaMapping';
import { entryMfn } from './validateTables';

export type PtwrOutcome = 'not_ptwr' | 'applied' | 'refused';

/**
 * Called for a kernel-mode write whose walk took a protection fault at `faultVa` (R9.1 steps 1–2
 * already hold). Emulates the write when the read-only L1 entry maps an L1 table in use.
 */
export function tryPtwr(
  ctx: PvContext,
  v: PvVcpu,
  va: bigint,
  faultVa: bigint,
  size: number,
  value: bigint,
): PtwrOutcome {
  if (!addrOk(faultVa)) return 'not_ptwr';
  const fault48 = toVa48(faultVa);
  const l1 = findGuestL1(ctx, v, fault48);
  if (l1 < 0) return 'not_ptwr';
  const i1 = tableIndex(fault48, 1);
  const mlo = ctx.mem.readLo(l1, i1);
  const mhi = ctx.mem.readHi(l1, i1);
  if ((mlo & (PTE_P | PTE_RW)) !== PTE_P) return 'not_ptwr';
  const target = entryMfn(mlo, mhi);
  const ft = ctx.ft;
  const d = v.domain.id;
  if (!ft.isValid(target) || ft.refCount(target) === 0 || ft.owner(target) !== d) return 'not_ptwr';
  if (ft.type(target) !== PageType.L1PageTable || ft.typeCount(target) === 0 || !ft.validated(target))
    return 'not_ptwr';

  const offset = toVa48(va) % 4096;
  const index = offset >> 3;
  const old = ctx.mem.readEntry(target, index);
  const aligned = faultVa === va && BigInt(offset) % BigInt(size) === 0n && offset + size <= 4096;
  let merged = value & ((1n << BigInt(8 * size)) - 1n);
  if (size < 8) {
    const shift = BigInt((offset % 8) * 8);
    const mask = ((1n << BigInt(8 * size)) - 1n) << shift;
    merged = (old & ~mask) | (merged << shift);
  }
  // The emulated write is the trap's own event: it comes before the events of what it caused.
  const mark = ctx.mark;
  let rc = -EINVAL;
  let explanation: string;
  const place = `write to ${hex(va)} through a read-only mapping of L1 mfn ${hex(target)} would update entry ${index}`;
  if (!aligned) {
    explanation = `${place}, but the write of ${size} bytes is not naturally aligned \u2014 ptwr_emulated_write: #PF P|W`;
    ctx.reason = null;
  } else {
    ctx.reason = null;
    rc = modL1Entry(ctx, target, index, Number(merged & 0xffffffffn), Number(merged >> 32n), 0, d, d, false);
    if (rc === 0) {
      ctx.insertAt(mark, {
        class: 'ptwr',
        va,
        l1_mfn: target,
        index,
        size,
        old,
        new: ctx.mem.readEntry(target, index),
        ok: true,
        rc: 0n,
        explanation: `${place} to ${hex(merged)}: the new entry is valid and is stored \u2014 ptwr_emulated_update \u2192 mod_l1_entry checks`,
      });
      return 'applied';
    }
    const r = ctx.reason as Reason | null;
    explanation =
      r === null
        ? `${place}, but the new entry is refused (${errnoName(rc)}) \u2014 ptwr_emulated_update: #PF P|W`
        : `${place} to ${hex(merged)}, but the new entry would ${r.effect}, and ${r.fact} \u2014 ${r.chain.join(' \u2192 ')}: #PF P|W`;
  }
  const r = ctx.reason as Reason | null;
  ctx.insertAt(mark, {
    class: 'ptwr',
    va,
    l1_mfn: target,
    index,
    size,
    old,
    new: merged,
    ok: false,
    rc: rcValue(rc),
    explanation,
  });
  ctx.emit({
    class: 'refusal',
    rule: aligned ? (r?.rule ?? 'R9.2') : 'R9.1',
    xen_function: 'ptwr_emulated_update',
    rc: rcValue(rc),
    frame: frameFacts(ctx, target),
    entry: { mfn: target, level: 1, index, value: merged },
    target: r?.target ?? null,
    explanation,
  });
  ctx.flushEvents();
  raisePageFault(ctx.machine.log, v.vcpu, {
    addr: faultVa,
    code: PF_P | PF_W,
    access: 'write',
    va,
    cause: 'ptwr_refused',
    level: 1,
    entry: { mfn: l1, gfn: null, index: i1, value: joinEntry(mlo, mhi) },
    rule: 'R9.2',
    what: explanation.split(' \u2014 ')[0],
    chain: aligned ? (r?.chain.join(' \u2192 ') ?? 'ptwr_emulated_update') : 'ptwr_emulated_write',
  });
  return 'refused';
}
