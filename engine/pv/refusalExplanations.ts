/**
 * Why Xen refused (xen-semantics.md §14, events.md §5). The check that decides records a `Reason`
 * once, on the failure path only: the rule, the error, the Xen functions involved and the facts
 * that forbid the request (the frame's type and counts at that moment). Callers that wrap a nested
 * failure — a validation reached through an entry — prepend their function and their entry, so the
 * chain reads outermost first. The explanation `WHAT — CHAIN: RESULT` is rendered once, when the
 * statement logs its `refusal` event.
 */
import type { FrameFacts } from '../events/eventTypes';
import { PageType } from '../machine/frameTable';
import type { PvContext } from './pvContext';

export interface EntryRef {
  readonly mfn: number;
  readonly level: number;
  readonly index: number;
  readonly value: bigint;
}

export interface Reason {
  rule: string;
  rc: number;
  /** Xen functions, outermost first. */
  chain: string[];
  /** What the deciding entry or operation would do (`map mfn 0x1a3 writable`). */
  effect: string;
  /** The fact that forbids it (`mfn 0x1a3 is an L2 page table (type count 1, pinned)`). */
  fact: string;
  /** Entries through which validation descended, outermost first; the last one decided. */
  path: EntryRef[];
  frame: FrameFacts | null;
  entry: EntryRef | null;
  target: FrameFacts | null;
}

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM',
  3: 'ESRCH',
  14: 'EFAULT',
  16: 'EBUSY',
  22: 'EINVAL',
  38: 'ENOSYS',
};

export function errnoName(rc: number): string {
  return `-${ERRNO_NAMES[-rc] ?? String(-rc)}`;
}

export function hex(v: number | bigint): string {
  return '0x' + v.toString(16);
}

export function frameFacts(ctx: PvContext, mfn: number): FrameFacts | null {
  const ft = ctx.ft;
  if (!ft.isValid(mfn)) return null;
  return {
    mfn,
    type: ft.typeName(mfn),
    type_count: ft.typeCount(mfn),
    ref_count: ft.refCount(mfn),
    pinned: ft.pinned(mfn),
    validated: ft.validated(mfn),
    owner: ft.owner(mfn),
  };
}

const KIND: Record<number, string> = {
  [PageType.None]: 'an untyped frame',
  [PageType.L1PageTable]: 'an L1 page table',
  [PageType.L2PageTable]: 'an L2 page table',
  [PageType.L3PageTable]: 'an L3 page table',
  [PageType.L4PageTable]: 'an L4 page table',
  [PageType.SegDesc]: 'a descriptor page',
  [PageType.Writable]: 'a writable page',
};

/** `mfn 0x1a3 is an L2 page table (type count 1, pinned)` */
export function describeFrame(ctx: PvContext, mfn: number): string {
  const ft = ctx.ft;
  if (!ft.isValid(mfn))
    return `mfn ${hex(mfn)} does not exist (the machine has ${hex(ft.frameCount)} frames)`;
  if (ft.refCount(mfn) === 0) return `mfn ${hex(mfn)} is not allocated (general count 0)`;
  const t = ft.type(mfn);
  const attrs = [`type count ${ft.typeCount(mfn)}`];
  if (ft.pinned(mfn)) attrs.push('pinned');
  if (ctx.partial.has(mfn)) attrs.push('partly validated');
  else if (t >= 1 && t <= 4 && !ft.validated(mfn)) attrs.push('not validated');
  return `mfn ${hex(mfn)} is ${KIND[t]} (${attrs.join(', ')})`;
}

/** `mfn 0x1a3 belongs to domain 2` / `… to DOMID_XEN`. */
export function describeOwner(ctx: PvContext, mfn: number): string {
  const ft = ctx.ft;
  if (!ft.isValid(mfn)) return describeFrame(ctx, mfn);
  if (ft.refCount(mfn) === 0) return describeFrame(ctx, mfn);
  const owner = ft.owner(mfn);
  if (owner === 0x7ff2) return `mfn ${hex(mfn)} belongs to the hypervisor (DOMID_XEN)`;
  const d = ctx.domain(owner);
  return `mfn ${hex(mfn)} belongs to domain ${owner}${d === undefined ? '' : ` (${d.name})`}`;
}

export function levelName(level: number): string {
  return `L${level}`;
}

/** Records the deciding check's reason and returns its error. */
export function refuse(
  ctx: PvContext,
  rc: number,
  rule: string,
  chain: string[],
  effect: string,
  fact: string,
  entry: EntryRef | null,
  frameMfn: number | null,
  targetMfn: number | null,
): number {
  ctx.reason = {
    rule,
    rc,
    chain,
    effect,
    fact,
    path: entry === null ? [] : [entry],
    frame: frameMfn === null ? null : frameFacts(ctx, frameMfn),
    entry,
    target: targetMfn === null ? null : frameFacts(ctx, targetMfn),
  };
  return rc;
}

/** A caller wraps a nested failure: its function first, and the entry it was checking. */
export function wrapReason(ctx: PvContext, fn: string | null, entry: EntryRef | null): void {
  const r = ctx.reason;
  if (r === null) return;
  if (fn !== null && r.chain[0] !== fn) r.chain.unshift(fn);
  if (entry !== null) {
    const first = r.path[0];
    if (first === undefined || first.mfn !== entry.mfn || first.index !== entry.index) r.path.unshift(entry);
  }
}

function entryPlace(e: EntryRef): string {
  return `L${e.level} entry ${e.index} of mfn ${hex(e.mfn)}`;
}

function entryTarget(e: EntryRef): number {
  return Number((e.value >> 12n) & 0xff_ffff_ffffn);
}

/** `its entry 3 (value 0x…) names L1 mfn 0x1d4, whose entry 5 would map …, and FACT` */
function describeNested(r: Reason, entries: readonly EntryRef[]): string {
  const parts: string[] = [];
  entries.forEach((e, k) => {
    const subject = `${k === 0 ? 'its' : 'whose'} entry ${e.index} (value ${hex(e.value)})`;
    if (k === entries.length - 1) parts.push(`${subject} would ${r.effect}, and ${r.fact}`);
    else parts.push(`${subject} names L${e.level - 1} mfn ${hex(entryTarget(e))}`);
  });
  return parts.join(', ');
}

function chainAndResult(r: Reason, result: string): string {
  return `\u2014 ${r.chain.join(' \u2192 ')}: ${result}`;
}

/** An entry update (mmu_update, update_va_mapping, ptwr) refused. */
export function explainEntryRefusal(r: Reason, place: string, result: string): string {
  const first = r.path[0];
  if (first === undefined) return `${place} would ${r.effect}, but ${r.fact} ${chainAndResult(r, result)}`;
  if (r.path.length === 1)
    return `${entryPlace(first)} would ${r.effect}, but ${r.fact} ${chainAndResult(r, result)}`;
  return (
    `${entryPlace(first)} would map L${first.level - 1} mfn ${hex(entryTarget(first))}, but ` +
    `${describeNested(r, r.path.slice(1))} ${chainAndResult(r, result)}`
  );
}

/** An operation on a frame (pin, base pointer, mov cr3) refused: `PLACE would EFFECT, but FACT`. */
export function explainOperationRefusal(
  r: Reason,
  place: string,
  validation: string,
  result: string,
): string {
  if (r.path.length === 0) return `${place} would ${r.effect}, but ${r.fact} ${chainAndResult(r, result)}`;
  return `${place} would ${validation}, but ${describeNested(r, r.path)} ${chainAndResult(r, result)}`;
}
