/**
 * The two walks of a shadowed vCPU and the facts R4.4 needs about a target frame.
 *
 * - The guest walk (`sh_walk_guest_tables` → `guest_walk_tables`): the guest's own tables in
 *   guest-physical memory through the p2m, with the guest's CR0.WP, NX on, no 1 GiB pages (R3.9).
 * - The shadow walk (the hardware): the shadow tables in machine memory from the vCPU's top-level
 *   shadow, with WP = 1 (R2.3); magic MMIO entries show as reserved bits.
 */
import { MAX_PHYS_BITS } from '../machine/machine';
import type { Vcpu } from '../machine/vcpu';
import { entryFrame } from '../paging/pte';
import type { AccessKind, Walk } from '../paging/walkTables';
import { walkTables } from '../paging/walkTables';
import type { ShadowContext } from './shadowContext';
import type { LeafTarget } from './shadowPropagate';

/** CR3's guest frame. */
export function cr3Gfn(v: Vcpu): number {
  return Number((v.state.cr3 >> 12n) & 0xff_ffff_ffffn);
}

export function guestWalk(
  ctx: ShadowContext,
  v: Vcpu,
  va48: number,
  access: AccessKind,
  setAD: boolean,
  user = v.user,
): Walk {
  return walkTables({
    memory: ctx.memory,
    root: cr3Gfn(v),
    va48,
    access,
    user,
    wp: ctx.guestWp(v),
    nxe: true,
    allow1G: false,
    maxPhysBits: MAX_PHYS_BITS,
    tableMfn: (gfn) => ctx.gfnToMfn(gfn),
    setAD,
  });
}

/** The hardware's walk of the shadows; null when the vCPU has no top-level shadow. */
export function shadowWalk(
  ctx: ShadowContext,
  v: Vcpu,
  va48: number,
  access: AccessKind,
  user = v.user,
): Walk | null {
  const top = ctx.vcpuState(v).top;
  if (top < 0) return null;
  return walkTables({
    memory: ctx.memory,
    root: top,
    va48,
    access,
    user,
    wp: true,
    nxe: true,
    allow1G: false,
    maxPhysBits: MAX_PHYS_BITS,
    setAD: false,
  });
}

/** R4.4's facts about the gfn a guest leaf maps. */
export function gfnTarget(ctx: ShadowContext, gfn: number, demandWrite: boolean): LeafTarget {
  const mfn = ctx.gfnToMfn(gfn);
  const shadowed = mfn >= 0 && ctx.hash.isShadowed(gfn);
  return { mfn, shadowed, oosDemandWrite: shadowed && demandWrite && ctx.isOutOfSync(gfn) };
}

/** The same for a guest L1 entry. */
export function leafTarget(ctx: ShadowContext, lo: number, hi: number, demandWrite: boolean): LeafTarget {
  return gfnTarget(ctx, entryFrame(lo, hi), demandWrite);
}

/** The guest frame a guest walk's level-`level` table is in, or −1 when the walk has no such level. */
export function walkFrame(walk: Walk, level: number): number {
  const l = walk.levels[4 - level];
  return l === undefined ? -1 : l.frame;
}
