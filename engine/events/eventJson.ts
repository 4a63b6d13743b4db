/**
 * JSON form of events (events.md §1–§2): integers that are counts, indexes, ids or frame numbers
 * stay JSON numbers (they are `number` in `eventTypes.ts`); every `bigint` becomes lowercase hex
 * `"0x…"`. Keys follow `EVENT_FIELD_ORDER`, so the `--trace` line is stable.
 */
import type { EngineEvent, EventClass } from './eventTypes';
import { EVENT_FIELD_ORDER } from './eventTypes';

export function hex(value: bigint | number): string {
  return '0x' + value.toString(16);
}

/** Converts a field value to its JSON-ready form (bigints to hex strings, recursively). */
export function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return hex(value);
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toJsonValue(v);
    return out;
  }
  return value;
}

/** The event's class fields in schema order, JSON-ready, without envelope and explanation. */
export function eventFields(event: EngineEvent): Record<string, unknown> {
  const order = EVENT_FIELD_ORDER[event.class as EventClass];
  const record = event as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of order) out[key] = toJsonValue(record[key] ?? null);
  return out;
}

/** The whole event as a JSON object: envelope, class, fields, explanation (when present). */
export function eventToJson(event: EngineEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {
    step: event.step,
    domain: event.domain,
    vcpu: event.vcpu,
    line: event.line,
    class: event.class,
  };
  Object.assign(out, eventFields(event));
  if (event.explanation !== undefined) out.explanation = event.explanation;
  return out;
}

/** `STEP DOMAIN.vcpuN LINE CLASS FIELDS[ — EXPLANATION]` (events.md §2). */
export function formatTraceLine(event: EngineEvent): string {
  const head = `${event.step} ${event.domain}.vcpu${event.vcpu} ${event.line} ${event.class} ${JSON.stringify(eventFields(event))}`;
  return event.explanation === undefined ? head : `${head} \u2014 ${event.explanation}`;
}
