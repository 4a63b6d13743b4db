/**
 * The shadow state of one domain and the lifetime of shadow pages: making them (`sh_make_shadow`,
 * `make_fl1_shadow`, `shadow_promote`), references and pins (`sh_get_ref`, `sh_put_ref`, `sh_pin`,
 * `sh_unpin`) and destruction (`sh_destroy_shadow`, `shadow_demote`), R3.1–R3.5.
 *
 * Everything the rules remember lives here and in machine memory: the hash, each vCPU's top-level
 * shadow, out-of-sync table and early-unshadow memory, the unpaged map and the L3-pinning switch.
 * `snapshot()`/`restore()` copy exactly that.
 *
 * Events. A trap's own event comes first, then the events of what it caused (hvm-paging.md §10), so
 * the resyncs and unshadows a handler causes wait in `pending` until the handler has logged its
 * own event and calls `flushPending()`.
 */
import type { EventInput } from '../events/eventTypes';
import { GuestRuntimeError } from '../language/host';
import type { Domain } from '../machine/domain';
import type { Machine } from '../machine/machine';
import type { Vcpu } from '../machine/vcpu';
import type { MachineMemory } from '../memory/machineMemory';
import { PTE_P, entryFrame } from '../paging/pte';
import { resyncPage, oosRemove, outOfSyncSlot } from './outOfSync';
import type { OosSlot } from './outOfSync';
import { ShadowHash } from './shadowHash';
import type { ShadowHashSnapshot } from './shadowHash';
import type { FixupFlag, ShadowPage, ShadowType } from './shadowTypes';
import { OOS_PAGES, SHADOW_LEVEL, upEntry } from './shadowTypes';
import { UnpagedMap } from './unpagedMap';

export interface ShadowVcpuState {
  /** Smfn of the vCPU's top-level (L4) shadow, −1 while it has none (paging off). */
  top: number;
  /** The OOS table (R6.2): `OOS_PAGES` slots. */
  oos: (OosSlot | null)[];
  /** Early-unshadow memory (R7.3): last frame of an emulated zero write, −1 for none. */
  lastEmulatedGfn: number;
}

export interface ShadowContextSnapshot {
  readonly hash: ShadowHashSnapshot;
  readonly vcpus: readonly ShadowVcpuState[];
  readonly unpaged: ReadonlyMap<number, number>;
  readonly l3Pinning: boolean;
}

export const CR0_PG = 0x80000000n;
export const CR0_WP = 0x10000n;

export class ShadowContext {
  readonly hash = new ShadowHash();
  readonly unpaged = new UnpagedMap();
  vcpus: ShadowVcpuState[] = [];
  /** R3.4a: `SHOPT_LINUX_L3_TOPLEVEL` still set. */
  l3Pinning = true;

  // ---- per-trap scratch (not state: empty between statements) ----
  pending: EventInput[] = [];
  flags = new Set<FixupFlag>();
  made: { type: ShadowType; gfn: number }[] = [];
  /** While an unshadow runs: the shadows destroyed, in order. */
  destroyed: { type: ShadowType; gfn: number }[] | null = null;

  constructor(
    readonly machine: Machine,
    readonly domain: Domain,
  ) {}

  get memory(): MachineMemory {
    return this.machine.memory;
  }

  gfnToMfn(gfn: number): number {
    return this.domain.pfnToMfn(gfn);
  }

  vcpuState(v: Vcpu): ShadowVcpuState {
    return this.vcpus[v.index];
  }

  pagingOn(v: Vcpu): boolean {
    return (v.state.cr0 & CR0_PG) !== 0n;
  }

  guestWp(v: Vcpu): boolean {
    return (v.state.cr0 & CR0_WP) !== 0n;
  }

  /** `oos_active`: every vCPU of the domain has paging on (R6.1). */
  oosActive(): boolean {
    return this.domain.vcpus.every((v) => this.pagingOn(v));
  }

  isOutOfSync(gfn: number): boolean {
    return outOfSyncSlot(this, gfn) !== null;
  }

  /** Flushes every vCPU's TLB in the domain, global entries included. */
  flushAllTlbs(): void {
    for (const v of this.domain.vcpus) v.tlb.flushAll();
  }

  currentStep(): number {
    return this.machine.log.getContext().step;
  }

  // ---- events ----

  beginTrap(): void {
    this.flags.clear();
    this.made = [];
  }

  /** An event caused by the trap being handled: logged after the trap's own event. */
  emitCaused(event: EventInput): void {
    this.pending.push(event);
  }

  flushPending(): void {
    const events = this.pending;
    this.pending = [];
    for (const e of events) this.machine.log.append(e);
  }

  /** `domain_crash`: every vCPU of the domain stops (R1.4, R7.2, out of shadow memory). */
  crash(reason: string): never {
    this.flushPending();
    const message = `domain ${this.domain.name} crashed: ${reason}`;
    this.domain.crashed = message;
    throw new GuestRuntimeError(message, 'domain');
  }

  // ---- making shadows ----

  /** `sh_make_shadow` (and `make_fl1_shadow` for `fl1`): a new shadow, all entries empty. */
  makeShadow(gfn: number, type: ShadowType): ShadowPage {
    if (type === 'l4' && this.l3Pinning) this.maybeEndL3Pinning();
    const smfn = this.machine.takeFreeFrame();
    if (smfn < 0) this.crash('out of shadow memory');
    this.memory.fillZero(smfn);
    const sp: ShadowPage = { type, gfn, smfn, refs: 0, pinned: false, up: 0 };
    if (type !== 'fl1') {
      // shadow_promote: an out-of-sync frame is resynced before it gets another shadow type.
      if (this.isOutOfSync(gfn)) resyncPage(this, gfn, 'promote');
      this.flags.add('promote');
    }
    this.hash.insert(sp);
    this.made.push({ type, gfn });
    return sp;
  }

  /** R3.4a: more than 2 × vCPUs pinned L4 shadows end L3 pinning for good. */
  private maybeEndL3Pinning(): void {
    let l4s = 0;
    for (const sp of this.hash.all()) if (sp.type === 'l4' && sp.pinned) l4s++;
    if (l4s <= 2 * this.domain.config.vcpus) return;
    this.l3Pinning = false;
    for (const sp of [...this.hash.all()]) if (sp.type === 'l3' && sp.pinned) this.unpin(sp);
    // sh_reset_l3_up_pointers: the L3 shadows start keeping up-pointers from scratch.
    for (const sp of this.hash.all()) if (sp.type === 'l3') sp.up = 0;
  }

  /** `sh_type_has_up_pointer`: every type that cannot be pinned (L3 only once L3 pinning is off). */
  hasUpPointer(type: ShadowType): boolean {
    return type === 'l3' ? !this.l3Pinning : type !== 'l4';
  }

  // ---- references ----

  /** `sh_get_ref`; `entry` is the shadow entry taking it (`upEntry`), 0 for a pin or a vCPU. */
  getRef(sp: ShadowPage, entry = 0): void {
    if (entry !== 0 && sp.up === 0 && this.hasUpPointer(sp.type)) sp.up = entry;
    sp.refs++;
  }

  /** `sh_put_ref`; `entry` as for `getRef`. */
  putRef(sp: ShadowPage, entry = 0): void {
    if (entry !== 0 && sp.up === entry && this.hasUpPointer(sp.type)) sp.up = 0;
    sp.refs--;
    if (sp.refs < 0) throw new Error(`shadow refcount below zero: ${sp.type} of gfn ${sp.gfn}`);
    if (sp.refs === 0) this.destroy(sp);
  }

  pin(sp: ShadowPage): void {
    if (sp.pinned) return;
    sp.pinned = true;
    sp.refs++;
  }

  unpin(sp: ShadowPage): void {
    if (!sp.pinned) return;
    sp.pinned = false;
    this.putRef(sp);
  }

  /** `sh_destroy_shadow`: leave the hash, demote the frame, drop the references its entries hold. */
  private destroy(sp: ShadowPage): void {
    const unshadowed = this.hash.remove(sp);
    this.destroyed?.push({ type: sp.type, gfn: sp.gfn });
    // shadow_demote: a frame left with no shadow leaves the OOS table without a resync.
    if (unshadowed && this.isOutOfSync(sp.gfn)) oosRemove(this, sp.gfn);
    if (SHADOW_LEVEL[sp.type] > 1) {
      const words = this.memory.frameWords(sp.smfn);
      const children: { child: ShadowPage; entry: number }[] = [];
      for (let i = 0; i < 512; i++) {
        const lo = words[i << 1];
        if ((lo & PTE_P) === 0) continue;
        const child = this.hash.page(entryFrame(lo, words[(i << 1) | 1]));
        if (child !== undefined) children.push({ child, entry: upEntry(sp.smfn, i) });
      }
      for (const { child, entry } of children) this.putRef(child, entry);
    }
    this.machine.giveBackFrame(sp.smfn);
  }

  // ---- checkpoints ----

  snapshot(): ShadowContextSnapshot {
    return {
      hash: this.hash.snapshot(),
      vcpus: this.vcpus.map(copyVcpuState),
      unpaged: this.unpaged.snapshot(),
      l3Pinning: this.l3Pinning,
    };
  }

  restore(s: ShadowContextSnapshot): void {
    this.hash.restore(s.hash);
    this.vcpus = s.vcpus.map(copyVcpuState);
    this.unpaged.restore(s.unpaged);
    this.l3Pinning = s.l3Pinning;
    this.pending = [];
  }
}

export function newVcpuState(): ShadowVcpuState {
  return { top: -1, oos: new Array<OosSlot | null>(OOS_PAGES).fill(null), lastEmulatedGfn: -1 };
}

function copyVcpuState(s: ShadowVcpuState): ShadowVcpuState {
  return {
    top: s.top,
    lastEmulatedGfn: s.lastEmulatedGfn,
    oos: s.oos.map((slot) =>
      slot === null
        ? null
        : {
            gfn: slot.gfn,
            snapshot: slot.snapshot.slice(),
            fixups: slot.fixups.map((f) => (f === null ? null : { ...f })),
            next: slot.next,
          },
    ),
  };
}
