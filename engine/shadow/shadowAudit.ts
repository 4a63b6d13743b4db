/**
 * The shadow audit, as Xen's `sh_audit_l1_table` … `sh_audit_l4_table` and `sh_audit_flags`
 * (multi.c) check it (events.md §3, audit `shadow`):
 * - R4.4: every present shadow entry agrees with its guest entry — it names the shadow (or the
 *   machine frame, or for an unbacked gfn the magic entry) R4.4 gives, and grants no right R4.4 does
 *   not — except the entries of out-of-sync L1s, which may be stale (R6.3);
 * - R3.5: each shadow's reference count equals the present entries that point at it, plus its pin,
 *   plus the vCPUs running on it;
 * - R5.4: every shadowed frame that is not out of sync is write-protected;
 * - R3.3: a vCPU with paging on runs on the L4 shadow of its CR3.
 */
import type { AuditViolation } from '../events/eventTypes';
import type { Domain } from '../machine/domain';
import { hex } from '../machine/guestFaults';
import type { Machine } from '../machine/machine';
import { PTE_HI_NX, PTE_P, PTE_PS, PTE_RW, PTE_US, entryFrame } from '../paging/pte';
import type { ShadowContext } from './shadowContext';
import { superpageBase } from './shadowCreate';
import { cr3Gfn, leafTarget } from './shadowFacts';
import type { EntryHalves } from './shadowPropagate';
import {
  guestEntryReserved,
  isMagicMmio,
  magicMmioGfn,
  propagateFl1,
  propagateL1,
  propagateUpper,
} from './shadowPropagate';
import { gfnTarget } from './shadowFacts';
import type { ShadowPage } from './shadowTypes';
import { CHILD_TYPE, SHADOW_LEVEL } from './shadowTypes';
import { isWriteProtected } from './writeAccess';

export interface ShadowAudit {
  readonly count: number;
  readonly violations: AuditViolation[];
}

/** Audits a shadowed domain of the machine (an empty audit for any other kind). */
export function auditShadows(machine: Machine, domain: Domain): ShadowAudit {
  const model = domain.model as { ctx?: ShadowContext };
  if (domain.kind !== 'hvm-shadow' || model.ctx === undefined) return { count: 0, violations: [] };
  void machine;
  return auditContext(model.ctx);
}

export function auditContext(ctx: ShadowContext): ShadowAudit {
  const violations: AuditViolation[] = [];
  const pointers = new Map<number, number>();
  for (const sp of ctx.hash.all()) {
    const words = ctx.memory.frameWords(sp.smfn);
    const oos = sp.type === 'l1' && ctx.isOutOfSync(sp.gfn);
    for (let i = 0; i < 512; i++) {
      const lo = words[i << 1];
      const hi = words[(i << 1) | 1];
      if ((lo & PTE_P) === 0) continue;
      if (SHADOW_LEVEL[sp.type] > 1) {
        const child = entryFrame(lo, hi);
        pointers.set(child, (pointers.get(child) ?? 0) + 1);
        const problem = checkUpper(ctx, sp, i, lo, hi);
        if (problem !== null) violations.push({ rule: 'R4.4', mfn: sp.smfn, message: problem });
      } else if (!oos) {
        const problem = checkLeaf(ctx, sp, i, lo, hi);
        if (problem !== null) violations.push({ rule: 'R4.4', mfn: sp.smfn, message: problem });
      }
    }
  }
  const users = new Map<number, number>();
  ctx.domain.vcpus.forEach((v, vi) => {
    const top = ctx.vcpus[vi].top;
    if (top >= 0) users.set(top, (users.get(top) ?? 0) + 1);
    if (!ctx.pagingOn(v)) return;
    const sp = ctx.hash.page(top);
    if (sp === undefined || sp.type !== 'l4' || sp.gfn !== cr3Gfn(v)) {
      violations.push({
        rule: 'R3.3',
        mfn: top < 0 ? null : top,
        message: `${v.label} does not run on the L4 shadow of its CR3 gfn ${hex(cr3Gfn(v))}`,
      });
    }
  });
  for (const sp of ctx.hash.all()) {
    const expected = (pointers.get(sp.smfn) ?? 0) + (sp.pinned ? 1 : 0) + (users.get(sp.smfn) ?? 0);
    if (expected !== sp.refs) {
      violations.push({
        rule: 'R3.5',
        mfn: sp.smfn,
        message: `${sp.type} shadow of gfn ${hex(sp.gfn)} has ${sp.refs} references, but ${expected} hold it`,
      });
    }
  }
  for (const child of pointers.keys()) {
    if (ctx.hash.page(child) === undefined)
      violations.push({
        rule: 'R3.5',
        mfn: child,
        message: `a present shadow entry names mfn ${hex(child)}, which is no shadow`,
      });
  }
  for (const gfn of ctx.hash.shadowedFrames()) {
    if (!ctx.isOutOfSync(gfn) && !isWriteProtected(ctx, gfn)) {
      violations.push({
        rule: 'R5.4',
        mfn: ctx.gfnToMfn(gfn),
        message: `shadowed gfn ${hex(gfn)} is mapped writable`,
      });
    }
  }
  return { count: violations.length, violations };
}

function checkUpper(ctx: ShadowContext, sp: ShadowPage, i: number, lo: number, hi: number): string | null {
  const level = SHADOW_LEVEL[sp.type];
  const gmfn = ctx.gfnToMfn(sp.gfn);
  const glo = ctx.memory.readLo(gmfn, i);
  const ghi = ctx.memory.readHi(gmfn, i);
  const place = `${sp.type} shadow entry ${i} of gfn ${hex(sp.gfn)}`;
  if ((glo & PTE_P) === 0 || guestEntryReserved(level, glo, ghi))
    return `${place} is present but its guest entry is not usable`;
  const child =
    level === 2 && (glo & PTE_PS) !== 0
      ? ctx.hash.lookup(superpageBase(glo, ghi), 'fl1')
      : ctx.hash.lookup(entryFrame(glo, ghi), CHILD_TYPE[level]);
  if (child === undefined || child.smfn !== entryFrame(lo, hi))
    return `${place} names smfn ${hex(entryFrame(lo, hi))}, not the shadow of its guest entry's target`;
  return rightsExceed(propagateUpper(level, glo, ghi, child.smfn), lo, hi)
    ? `${place} grants more than its guest entry`
    : null;
}

function checkLeaf(ctx: ShadowContext, sp: ShadowPage, i: number, lo: number, hi: number): string | null {
  const place = `${sp.type} shadow entry ${i} of gfn ${hex(sp.gfn)}`;
  let expected: EntryHalves;
  if (sp.type === 'fl1') {
    expected = propagateFl1(sp.gfn + i, gfnTarget(ctx, sp.gfn + i, true));
  } else {
    const gmfn = ctx.gfnToMfn(sp.gfn);
    const glo = ctx.memory.readLo(gmfn, i);
    const ghi = ctx.memory.readHi(gmfn, i);
    expected = propagateL1(glo, ghi, leafTarget(ctx, glo, ghi, true));
  }
  const [elo, ehi] = expected;
  if ((elo & PTE_P) === 0 && ehi === 0) return `${place} is present but its guest entry gives an empty entry`;
  if (isMagicMmio(elo, ehi) || isMagicMmio(lo, hi)) {
    if (!isMagicMmio(elo, ehi) || !isMagicMmio(lo, hi) || magicMmioGfn(lo, hi) !== magicMmioGfn(elo, ehi))
      return `${place} disagrees with its guest entry about MMIO`;
    return rightsExceed(expected, lo, hi) ? `${place} grants more than its guest entry` : null;
  }
  if (entryFrame(lo, hi) !== entryFrame(elo, ehi))
    return `${place} maps mfn ${hex(entryFrame(lo, hi))}, not ${hex(entryFrame(elo, ehi))}`;
  return rightsExceed(expected, lo, hi) ? `${place} grants more than its guest entry` : null;
}

/** `sh_audit_flags`: the shadow entry may not have P, RW or US, or lack NX, beyond the expected one. */
function rightsExceed(expected: EntryHalves, lo: number, hi: number): boolean {
  const [elo, ehi] = expected;
  const more = lo & (PTE_P | PTE_RW | PTE_US) & ~elo;
  return more !== 0 || ((ehi & PTE_HI_NX) !== 0 && (hi & PTE_HI_NX) === 0);
}
