/**
 * The shadow hash (`shadow_hash_lookup`, `get_shadow_status`, `get_fl1_shadow_status`,
 * `set_shadow_status`, `delete_shadow_status`, common.c): every live shadow page, found by
 * (guest frame, type) or by its own machine frame, and per guest frame the set of types it is
 * shadowed as (`shadow_flags`; an fl1 does not make a frame shadowed, R3.2).
 *
 * Snapshots copy the records (a few words each); the shadow entries themselves live in machine
 * memory and are checkpointed with it.
 */
import type { ShadowPage, ShadowType } from './shadowTypes';
import { SHADOW_FLAG, shadowKey } from './shadowTypes';

export type ShadowHashSnapshot = readonly ShadowPage[];

export class ShadowHash {
  private byKey = new Map<number, ShadowPage>();
  private bySmfn = new Map<number, ShadowPage>();
  private frameFlags = new Map<number, number>();

  lookup(gfn: number, type: ShadowType): ShadowPage | undefined {
    return this.byKey.get(shadowKey(gfn, type));
  }

  /** The shadow held in machine frame `smfn`, if it is one. */
  page(smfn: number): ShadowPage | undefined {
    return this.bySmfn.get(smfn);
  }

  insert(sp: ShadowPage): void {
    this.byKey.set(shadowKey(sp.gfn, sp.type), sp);
    this.bySmfn.set(sp.smfn, sp);
    if (sp.type !== 'fl1')
      this.frameFlags.set(sp.gfn, (this.frameFlags.get(sp.gfn) ?? 0) | SHADOW_FLAG[sp.type]);
  }

  /** Removes a shadow; returns whether its frame is no longer shadowed (`shadow_demote`'s last type). */
  remove(sp: ShadowPage): boolean {
    this.byKey.delete(shadowKey(sp.gfn, sp.type));
    this.bySmfn.delete(sp.smfn);
    if (sp.type === 'fl1') return false;
    const flags = (this.frameFlags.get(sp.gfn) ?? 0) & ~SHADOW_FLAG[sp.type];
    if (flags === 0) this.frameFlags.delete(sp.gfn);
    else this.frameFlags.set(sp.gfn, flags);
    return flags === 0;
  }

  /** R3.2: the frame has an l1/l2/l3/l4 shadow. */
  isShadowed(gfn: number): boolean {
    return this.frameFlags.has(gfn);
  }

  /** Shadowed only as an L1 (R6.1's condition). */
  isL1Only(gfn: number): boolean {
    return this.frameFlags.get(gfn) === SHADOW_FLAG.l1;
  }

  /** The frame's shadows in Xen's order L4, L3, L2, L1. */
  shadowsOf(gfn: number): ShadowPage[] {
    const flags = this.frameFlags.get(gfn) ?? 0;
    const out: ShadowPage[] = [];
    if (flags & SHADOW_FLAG.l4) out.push(this.lookup(gfn, 'l4')!);
    if (flags & SHADOW_FLAG.l3) out.push(this.lookup(gfn, 'l3')!);
    if (flags & SHADOW_FLAG.l2) out.push(this.lookup(gfn, 'l2')!);
    if (flags & SHADOW_FLAG.l1) out.push(this.lookup(gfn, 'l1')!);
    return out;
  }

  /** Every shadow, in creation order. */
  all(): IterableIterator<ShadowPage> {
    return this.byKey.values();
  }

  get size(): number {
    return this.byKey.size;
  }

  shadowedFrames(): IterableIterator<number> {
    return this.frameFlags.keys();
  }

  snapshot(): ShadowHashSnapshot {
    return [...this.byKey.values()].map((sp) => ({ ...sp }));
  }

  restore(s: ShadowHashSnapshot): void {
    this.byKey = new Map();
    this.bySmfn = new Map();
    this.frameFlags = new Map();
    for (const sp of s) this.insert({ ...sp });
  }
}
