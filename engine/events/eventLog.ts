/**
 * The engine's event log: an append-only list of `EngineEvent`s. Producers hand it the fields of a
 * class; the log adds the envelope of the step being executed (set by `setContext` before every
 * step). Checkpoints only need the length: events are never changed once logged, so restoring a
 * checkpoint truncates the list (`truncate`).
 *
 * Hot paths that log an event per page-table entry (a PV pin validates a million) append *packed*
 * events: eight numbers in a typed-array row, turned into the event object by the producer's
 * decoder the first time anyone reads it. Nobody may tell the difference: every read (`at`,
 * `slice`, `all`, a listener) sees the same object, built once. The log's order itself lives in a
 * typed array (`slots`), so appending a packed event touches no JavaScript array.
 */
import type { EngineEvent, EventInput } from './eventTypes';

export interface EventContext {
  step: number;
  domain: string;
  vcpu: number;
  line: number;
}

export type EventListener = (event: EngineEvent) => void;

/** Builds a packed event's object from its envelope and its numbers (`fields[at]` … `fields[at + 7]`). */
export type PackedEventDecoder = (context: EventContext, fields: Float64Array, at: number) => EngineEvent;

/** Decoders by id: a packed row names its decoder by number, so appending one stores numbers only. */
const DECODERS: PackedEventDecoder[] = [];

/** Registers a decoder once (at module load) and returns the id packed rows name it by. */
export function registerPackedDecoder(decoder: PackedEventDecoder): number {
  DECODERS.push(decoder);
  return DECODERS.length - 1;
}

/** A packed row: eight fields, then the decoder id. */
const PACKED_STRIDE = 9;

export class EventLog {
  /** The log in order: slot i holds an index into `built` (≥ 0) or −1 − the packed row of event i. */
  private slots = new Int32Array(1024);
  private count = 0;
  /** Events appended as objects, in log order. */
  private readonly built: EngineEvent[] = [];
  /** Packed rows (`PACKED_STRIDE` numbers each), in log order, with each row's slot and envelope. */
  private packed = new Float64Array(PACKED_STRIDE * 1024);
  private packedSlot = new Int32Array(1024);
  private packedContext = new Int32Array(1024);
  private packedRows = 0;
  /** Rows written by `stagePacked`: those from `packedRows` on are not in the log yet. */
  private stagedRows = 0;
  /** The envelopes packed rows refer to (a step's events share one). */
  private readonly packedContexts: EventContext[] = [];
  /** Packed rows already built, by row. */
  private readonly unpacked: (EngineEvent | undefined)[] = [];
  /** `all()`'s array: the first `allView.length` events in order, extended as the log grows. */
  private readonly allView: EngineEvent[] = [];
  private context: EventContext = { step: 0, domain: '', vcpu: 0, line: 0 };
  private listeners: EventListener[] = [];

  setContext(context: EventContext): void {
    this.context = context;
  }

  getContext(): EventContext {
    return this.context;
  }

  append(fields: EventInput): EngineEvent {
    const { step, domain, vcpu, line } = this.context;
    return this.appendBuilt({ step, domain, vcpu, line, ...fields } as EngineEvent);
  }

  /**
   * Appends an event that already carries the current envelope (built by a hot path as one object
   * literal, so the log need not copy it).
   */
  appendBuilt(event: EngineEvent): EngineEvent {
    if (this.count === this.slots.length) this.slots = grown(this.slots);
    this.slots[this.count++] = this.built.push(event) - 1;
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /**
   * Writes a packed event's row (eight fields, read by decoder `decoder` from
   * `registerPackedDecoder`) ahead of its place in the log, for a producer that orders a statement's
   * events before logging them; `appendStaged` logs it. Rows are staged and logged in the same order.
   */
  stagePacked(
    decoder: number,
    f0: number,
    f1: number,
    f2: number,
    f3: number,
    f4: number,
    f5: number,
    f6: number,
    f7: number,
  ): number {
    const row = this.stagedRows++;
    if (row === this.packedSlot.length) {
      this.packed = grown(this.packed);
      this.packedSlot = grown(this.packedSlot);
      this.packedContext = grown(this.packedContext);
    }
    let at = row * PACKED_STRIDE;
    const p = this.packed;
    p[at++] = f0;
    p[at++] = f1;
    p[at++] = f2;
    p[at++] = f3;
    p[at++] = f4;
    p[at++] = f5;
    p[at++] = f6;
    p[at++] = f7;
    p[at] = decoder;
    return row;
  }

  /**
   * Logs `count` staged rows from `first` (the next rows not yet logged) as events with the current
   * envelope. With a listener subscribed each event is built at once, as listeners need it now.
   */
  appendStaged(first: number, count: number): void {
    if (first !== this.packedRows || first + count > this.stagedRows)
      throw new Error(`event log: rows ${first}+${count} are not the next staged rows`);
    const start = this.count;
    while (start + count > this.slots.length) this.slots = grown(this.slots);
    const contexts = this.packedContexts;
    if (contexts.length === 0 || contexts[contexts.length - 1] !== this.context) contexts.push(this.context);
    const context = contexts.length - 1;
    for (let k = 0; k < count; k++) {
      this.slots[start + k] = -1 - (first + k);
      this.packedSlot[first + k] = start + k;
      this.packedContext[first + k] = context;
    }
    this.packedRows = first + count;
    this.count = start + count;
    if (this.listeners.length > 0) {
      for (let i = start; i < start + count; i++) {
        const event = this.at(i);
        for (const listener of this.listeners) listener(event);
      }
    }
  }

  /** Called for every event as it is logged (the CLI's --trace, the debugger's filters). */
  subscribe(listener: EventListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  get length(): number {
    return this.count;
  }

  at(index: number): EngineEvent {
    if (!(index >= 0 && index < this.count)) return undefined as unknown as EngineEvent;
    const code = this.slots[index];
    if (code >= 0) return this.built[code];
    const row = -1 - code;
    return this.unpacked[row] ?? this.unpack(row);
  }

  /** Every event, in order (the same array each time, extended as the log grows). */
  all(): readonly EngineEvent[] {
    const view = this.allView;
    for (let i = view.length; i < this.count; i++) view.push(this.at(i));
    return view;
  }

  slice(from: number, to?: number): EngineEvent[] {
    const n = this.count;
    const clamp = (v: number): number => (v < 0 ? Math.max(0, n + v) : Math.min(v, n));
    const start = clamp(from);
    const end = to === undefined ? n : clamp(to);
    const events: EngineEvent[] = [];
    for (let i = start; i < end; i++) events.push(this.at(i));
    return events;
  }

  /** Drops every event from `length` on (restoring a checkpoint). */
  truncate(length: number): void {
    const n = Math.max(0, Math.min(length, this.count));
    // Built events and packed rows are each in log order: keep those of the first n slots.
    let last = n - 1;
    while (last >= 0 && this.slots[last] < 0) last--;
    this.built.length = last < 0 ? 0 : this.slots[last] + 1;
    let rows = this.packedRows;
    while (rows > 0 && this.packedSlot[rows - 1] >= n) rows--;
    this.packedRows = rows;
    this.stagedRows = rows;
    this.packedContexts.length = rows === 0 ? 0 : this.packedContext[rows - 1] + 1;
    if (this.unpacked.length > rows) this.unpacked.length = rows;
    if (this.allView.length > n) this.allView.length = n;
    this.count = n;
  }

  /** Builds packed row `row`'s event, once. */
  private unpack(row: number): EngineEvent {
    const at = row * PACKED_STRIDE;
    const p = this.packed;
    const event = DECODERS[p[at + 8]](this.packedContexts[this.packedContext[row]], p, at);
    this.unpacked[row] = event;
    return event;
  }
}

function grown<T extends Int32Array | Float64Array>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  return b;
}
