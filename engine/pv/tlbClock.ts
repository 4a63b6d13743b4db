/**
 * TLB flushes of a PV domain and the TLB clock that filters the type-change flush
 * (xen-semantics.md R10.3, R10.4). A *full* flush drops every entry, global ones included (Xen
 * toggles CR4.PGE), ticks the clock once per vCPU and records the tick as the vCPU's `flushedAt`.
 * A frame whose type count drops to 0 is stamped with the clock; its next type change flushes the
 * owner's vCPUs that have not been fully flushed since.
 */
import type { TlbFlushCause } from '../events/eventTypes';
import { STAMP_NEVER } from '../machine/frameTable';
import { pageNumber } from '../paging/virtualAddress';
import type { PvContext, PvVcpu } from './pvContext';

/** Full flush of each vCPU, in vCPU order; logs one `tlb_flush`. */
export function flushTlbFull(
  ctx: PvContext,
  vcpus: readonly PvVcpu[],
  cause: TlbFlushCause,
  mfn: number | null = null,
): void {
  if (vcpus.length === 0) return;
  const indexes: number[] = [];
  for (const v of vcpus) {
    v.vcpu.tlb.flushAll();
    ctx.clock += 1;
    v.flushedAt = ctx.clock;
    indexes.push(v.vcpu.index);
  }
  ctx.emit({ class: 'tlb_flush', vcpus: indexes, scope: 'all', va: null, cause, mfn });
}

/** Drops the entry for one page in each vCPU (no clock tick). */
export function flushTlbOne(
  ctx: PvContext,
  vcpus: readonly PvVcpu[],
  va: bigint,
  va48: number,
  cause: TlbFlushCause,
): void {
  if (vcpus.length === 0) return;
  const vpn = pageNumber(va48);
  for (const v of vcpus) v.vcpu.tlb.invalidate(vpn);
  ctx.emit({ class: 'tlb_flush', vcpus: vcpus.map((v) => v.vcpu.index), scope: 'one', va, cause, mfn: null });
}

/** `_toggle_guest_pt`: non-global entries only, no clock tick. */
export function flushTlbNonGlobal(ctx: PvContext, v: PvVcpu): void {
  v.vcpu.tlb.flushNonGlobal();
  ctx.emit({
    class: 'tlb_flush',
    vcpus: [v.vcpu.index],
    scope: 'non_global',
    va: null,
    cause: 'mode_switch',
    mfn: null,
  });
}

/** R10.4: a frame changes type; flush the owner's vCPUs not flushed since the frame's stamp. */
export function flushOnTypeChange(ctx: PvContext, mfn: number): void {
  const stamp = ctx.ft.stamp(mfn);
  if (stamp === STAMP_NEVER) return;
  const all = ctx.vcpusOf(ctx.ft.owner(mfn));
  let any = false;
  for (const v of all) any ||= v.flushedAt <= stamp;
  if (any)
    flushTlbFull(
      ctx,
      all.filter((v) => v.flushedAt <= stamp),
      'type_change',
      mfn,
    );
}

/** A frame's type count dropped to 0. */
export function stampFrame(ctx: PvContext, mfn: number): void {
  ctx.ft.setStamp(mfn, ctx.clock);
}
