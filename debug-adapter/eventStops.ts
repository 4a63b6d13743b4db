/**
 * What an engine event means to the debugger (events.md §6.1–§6.2): which exception filter it
 * belongs to, the names it binds for a condition, and the `HEADLINE — EXPLANATION` text of its stop.
 * Kind-agnostic: it reads only the event schema, so PV and shadow events work as they appear.
 */
import type { EngineEvent } from '../engine/events/eventTypes';
import { EVENT_FIELD_ORDER } from '../engine/events/eventTypes';
import { BUILTIN_CONSTANTS } from '../engine/language';
import type { ExceptionFilterId } from './protocol';

const U64 = (1n << 64n) - 1n;

export function filterOf(event: EngineEvent): ExceptionFilterId | null {
  switch (event.class) {
    case 'fault':
      return event.fault === 'PF' ? 'page-fault' : 'gp-fault';
    case 'cr_write':
      return 'cr-write';
    case 'hypercall_result':
      return event.rc !== 0n ? 'hypercall-error' : null;
    case 'ptwr':
      return 'ptwr-emulate';
    case 'fixup':
      return 'shadow-fixup';
    case 'emulate':
      return 'shadow-emulate';
    case 'resync':
      return 'oos-resync';
    case 'unshadow':
      return 'unshadow';
    case 'npf':
      return 'npf';
    case 'mmio':
      return 'mmio';
    case 'expect_failed':
      return 'expect-failed';
    case 'invariant':
      return 'invariant';
    default:
      return null;
  }
}

const FRAME_TYPES = new Set(['NONE', 'L1', 'L2', 'L3', 'L4', 'SEG_DESC', 'WRITABLE']);

/** The event's fields as condition bindings: integers, booleans as 0/1, null as −1, names as constants. */
export function eventBindings(event: EngineEvent): Map<string, bigint> {
  const out = new Map<string, bigint>();
  if (event.class === 'expect_failed') return out; // variables and registers only (§6.1)
  const record = event as unknown as Record<string, unknown>;
  for (const key of EVENT_FIELD_ORDER[event.class]) {
    const v = record[key];
    if (typeof v === 'bigint') out.set(key, v & U64);
    else if (typeof v === 'number') out.set(key, BigInt(v));
    else if (typeof v === 'boolean') out.set(key, v ? 1n : 0n);
    else if (v === null) out.set(key, U64);
    else if (typeof v === 'string' && (key === 'fault' || FRAME_TYPES.has(v))) {
      const c = BUILTIN_CONSTANTS.get(v);
      if (c !== undefined) out.set(key, c);
    }
  }
  return out;
}

/** Linux errno numbers Xen returns (the language's constants are these; `ET` is a CR0 bit, not one). */
const ERRNO_NAMES = new Map<bigint, string>(
  (
    [
      ['EPERM', 1], ['ENOENT', 2], ['ESRCH', 3], ['EINTR', 4], ['EIO', 5], ['E2BIG', 7], ['EAGAIN', 11],
      ['ENOMEM', 12], ['EACCES', 13], ['EFAULT', 14], ['EBUSY', 16], ['EEXIST', 17], ['ENODEV', 19],
      ['EINVAL', 22], ['ENOSPC', 28], ['ERANGE', 34], ['EDEADLK', 35], ['ENOSYS', 38], ['EOPNOTSUPP', 95],
    ] as const
  ).map(([name, n]) => [BigInt(n), name]),
); // prettier-ignore

/** `-EBUSY` for an rc, or the hex value when it is no errno. */
export function errnoName(rc: bigint): string {
  const positive = (U64 + 1n - (rc & U64)) & U64;
  const name = ERRNO_NAMES.get(positive);
  return name !== undefined ? `-${name}` : '0x' + rc.toString(16);
}

/** The stop text of an event (§6.1 "What the stop says"); `stepEvents` are the events of its step. */
export function stopText(event: EngineEvent, stepEvents: readonly EngineEvent[]): string {
  if (event.class === 'expect_failed')
    return `expectation failed: ${event.text}${event.message !== null ? ` \u2014 ${event.message}` : ''}`;
  if (event.class === 'hypercall_result') {
    const refusal = stepEvents.find((e) => e.class === 'refusal');
    const head = `${event.op ?? event.name} refused: ${errnoName(event.rc)}`;
    const why = refusal?.explanation ?? event.explanation;
    return why === undefined ? head : `${head} \u2014 ${why}`;
  }
  if (event.class === 'invariant') {
    const first = event.violations[0];
    return `invariant: ${event.count} violation${event.count === 1 ? '' : 's'}${first ? ` \u2014 ${first.message}` : ''}`;
  }
  return event.explanation === undefined ? event.class : `${event.class} \u2014 ${event.explanation}`;
}

/** The statement's hypercall and `mmuext` op name, for function breakpoints before the statement. */
export function statementNames(sourceLine: string): string[] {
  const words = sourceLine
    .replace(/;.*$/, '')
    .trim()
    .split(/[\s,]+/);
  if (words[0] === 'mmuext' && words[1]) return ['mmuext', words[1]];
  if (words[0] === 'mmu_update' || words[0] === 'update_va_mapping') return [words[0]];
  return [];
}
