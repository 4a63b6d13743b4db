/**
 * The frame-table audit (xen-semantics.md R1.3): recomputes from scratch, for every frame, the
 * general and type counts that every present entry of every table in use, every pin, every base
 * pointer and every parked (partly validated) table implies, and checks them against the frame
 * table together with Xen's invariants: no writable mapping of a page-table page, every entry of a
 * table in use valid for its level, `validated` exactly when a table's type count is > 0.
 *
 * Only frames in chunks of the frame table that were ever written can differ from their initial
 * state, so the audit visits the domains' frames of those chunks and the frames their entries name.
 * The result is the `invariant` event's shape.
 */
import type { AuditViolation } from '../events/eventTypes';
import { DOMID_XEN, PageType } from '../machine/frameTable';
import type { Machine } from '../machine/machine';
import { PTE_P, PTE_RW, PTE_US } from '../paging/pte';
import type { PvContext } from './pvContext';
import { existingPvContext } from './pvContext';
import { hex } from './refusalExplanations';
import { entryMfn, isExternal, isXenL4Slot, L1_DISALLOW_LO, UPPER_DISALLOW_LO } from './validateTables';

export interface AuditResult {
  count: number;
  violations: AuditViolation[];
}

const CHUNK = 4096;
const MAX_VIOLATIONS = 100;

class Recount {
  readonly general = new Map<number, number>();
  readonly type = new Map<number, number>();

  add(mfn: number, general: number, type: number): void {
    if (general !== 0) this.general.set(mfn, (this.general.get(mfn) ?? 0) + general);
    if (type !== 0) this.type.set(mfn, (this.type.get(mfn) ?? 0) + type);
  }
}

export function auditFrames(machine: Machine): AuditResult {
  const violations: AuditViolation[] = [];
  const ctx = existingPvContext(machine);
  const ft = machine.frameTable;
  const report = (rule: string, mfn: number | null, message: string): void => {
    if (violations.length < MAX_VIOLATIONS) violations.push({ rule, mfn, message });
  };
  const frames = touchedDomainFrames(machine);
  const recount = new Recount();

  if (ctx !== undefined) {
    for (const mfn of frames) {
      if (!ctx.isPvDomain(ft.owner(mfn))) continue;
      const type = ft.type(mfn);
      if (type < PageType.L1PageTable || type > PageType.L4PageTable) continue;
      const partial = ctx.partial.get(mfn);
      if (partial !== undefined) {
        // Parked or lost: the attempt's type reference and its general + light references.
        recount.add(mfn, 2, 1);
        scanTable(ctx, mfn, type, partial.nrValidated, recount, report);
      } else if (ft.typeCount(mfn) > 0 && ft.validated(mfn)) {
        scanTable(ctx, mfn, type, 512, recount, report);
      }
      if (ft.pinned(mfn)) recount.add(mfn, 1, 1);
    }
    for (const list of ctx.vcpusByDomain.values()) {
      for (const v of list) {
        if (v.kernelBase !== 0) recount.add(v.kernelBase, 1, 1);
        if (v.userBase !== 0) recount.add(v.userBase, 1, 1);
      }
    }
  }

  // Every domain frame of a written chunk, and every other frame something holds a reference to.
  const check = frames;
  for (const mfn of recount.general.keys()) {
    if (!ft.isChunkTouched(mfn) || machine.layout.domainOf(mfn) === undefined) check.push(mfn);
  }
  const poolFrames = machine.layout.poolFrames;
  for (const mfn of check) {
    if (!ft.isValid(mfn)) continue;
    if (mfn >= poolFrames) continue; // the hypervisor's frames keep fixed values (R1.4)
    const owner = ft.owner(mfn);
    const isDomain = owner !== 0 && owner !== DOMID_XEN;
    const held = recount.general.get(mfn);
    // A fresh frame nothing holds (most of them): allocation reference only, no type, no pin.
    if (
      held === undefined &&
      ft.refCount(mfn) === (isDomain ? 1 : 0) &&
      ft.typeCount(mfn) === 0 &&
      ft.type(mfn) === PageType.None &&
      !ft.validated(mfn) &&
      !ft.pinned(mfn)
    )
      continue;
    const expectRef = (isDomain ? 1 : 0) + (held ?? 0);
    if (ft.refCount(mfn) !== expectRef) {
      report(
        'R1.3',
        mfn,
        `mfn ${hex(mfn)} has general count ${ft.refCount(mfn)}, but its holders add up to ${expectRef}`,
      );
    }
    if (ctx === undefined || !ctx.isPvDomain(owner)) continue;
    const expectType = recount.type.get(mfn) ?? 0;
    if (ft.typeCount(mfn) !== expectType) {
      report(
        'R1.3',
        mfn,
        `mfn ${hex(mfn)} has type count ${ft.typeCount(mfn)}, but its holders add up to ${expectType}`,
      );
    }
    const type = ft.type(mfn);
    const partial = ctx.partial.has(mfn);
    if (type >= PageType.L1PageTable && type <= PageType.L4PageTable) {
      const want = ft.typeCount(mfn) > 0 && !partial;
      if (ft.validated(mfn) !== want) {
        report(
          'R1.3',
          mfn,
          `mfn ${hex(mfn)} is an L${type} table with type count ${ft.typeCount(mfn)} but validated ${ft.validated(mfn) ? 1 : 0}`,
        );
      }
    } else if (type === PageType.None && ft.validated(mfn)) {
      report('R1.3', mfn, `mfn ${hex(mfn)} has type NONE but is validated`);
    } else if (type === PageType.Writable && ft.typeCount(mfn) > 0 && !ft.validated(mfn)) {
      report(
        'R1.3',
        mfn,
        `mfn ${hex(mfn)} is WRITABLE with type count ${ft.typeCount(mfn)} but not validated`,
      );
    }
    if (
      ft.pinned(mfn) &&
      (type < PageType.L1PageTable || type > PageType.L4PageTable || ft.typeCount(mfn) === 0)
    ) {
      report('R6.1', mfn, `mfn ${hex(mfn)} is pinned but is not a table in use`);
    }
  }
  return { count: violations.length, violations };
}

/** Domain frames in written chunks of the frame table. */
function touchedDomainFrames(machine: Machine): number[] {
  const ft = machine.frameTable;
  const out: number[] = [];
  for (const d of machine.domains) {
    const { start, frames } = d.range;
    for (let chunk = start - (start % CHUNK); chunk < start + frames; chunk += CHUNK) {
      if (!ft.isChunkTouched(chunk)) continue;
      const lo = Math.max(chunk, start);
      const hi = Math.min(chunk + CHUNK, start + frames);
      for (let m = lo; m < hi; m++) out.push(m);
    }
  }
  return out;
}

/** Built only for a report: the audit runs after every step under the debugger's filter. */
function entryName(level: number, index: number, table: number): string {
  return `L${level} entry ${index} of mfn ${hex(table)}`;
}

/** Counts the references held by entries 0 … limit−1 of a table and checks each entry (R3). */
function scanTable(
  ctx: PvContext,
  table: number,
  level: number,
  limit: number,
  recount: Recount,
  report: (rule: string, mfn: number | null, message: string) => void,
): void {
  const ft = ctx.ft;
  const owner = ft.owner(table);
  const words = ctx.mem.frameWords(table);
  for (let i = 0; i < limit; i++) {
    const lo = words[i << 1];
    if ((lo & PTE_P) === 0) continue;
    if (level === 4 && isXenL4Slot(i)) continue;
    const hi = words[(i << 1) | 1];
    const target = entryMfn(lo, hi);
    if ((lo & PTE_US) === 0) report('R3.8', table, `${entryName(level, i, table)} is present without US`);
    if (level === 1) {
      if ((lo & L1_DISALLOW_LO) !== 0)
        report('R3.1', table, `${entryName(level, i, table)} has a flag L1_DISALLOW_MASK forbids`);
      if (!ft.isValid(target)) {
        report('R3.3', table, `${entryName(level, i, table)} maps mfn ${hex(target)}, which does not exist`);
        continue;
      }
      const tOwner = ft.owner(target);
      const writable = (lo & PTE_RW) !== 0 && (tOwner === owner || !isExternal(ctx, tOwner));
      recount.add(target, 1, writable ? 1 : 0);
      const tType = ft.type(target);
      if ((lo & PTE_RW) !== 0 && tType >= PageType.L1PageTable && tType <= PageType.L4PageTable) {
        report(
          'R3.3',
          target,
          `${entryName(level, i, table)} maps mfn ${hex(target)} writable, but it is an L${tType} page table`,
        );
      }
      continue;
    }
    if ((lo & UPPER_DISALLOW_LO) !== 0)
      report('R3.1', table, `${entryName(level, i, table)} has a flag the L${level} mask forbids`);
    if (target === table) {
      if ((lo & PTE_RW) !== 0) report('R3.6', table, `${entryName(level, i, table)} is a writable self-map`);
      continue;
    }
    if (!ft.isValid(target) || ft.owner(target) !== owner) {
      report(
        'R3.4',
        table,
        `${entryName(level, i, table)} names mfn ${hex(target)}, which domain ${owner} does not own`,
      );
      continue;
    }
    recount.add(target, 1, 1);
    const tType = ft.type(target);
    if (tType === level) {
      if ((lo & PTE_RW) !== 0)
        report('R3.6', table, `${entryName(level, i, table)} is a writable linear entry`);
    } else if (tType !== level - 1) {
      report(
        'R3.4',
        table,
        `${entryName(level, i, table)} names mfn ${hex(target)} of type ${tType}, not an L${level - 1} table`,
      );
    }
  }
}
