/**
 * The engine's event log: an append-only list of `EngineEvent`s. Producers hand it the fields of a
 * class; the log adds the envelope of the step being executed (set by `setContext` before every
 * step). Checkpoints only need the length: events are never changed once logged, so restoring a
 * checkpoint truncates the list (`truncate`).
 */
import type { EngineEvent, EventInput } from './eventTypes';

export interface EventContext {
  step: number;
  domain: string;
  vcpu: number;
  line: number;
}

export type EventListener = (event: EngineEvent) => void;

export class EventLog {
  private readonly list: EngineEvent[] = [];
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
    const event = { step, domain, vcpu, line, ...fields } as EngineEvent;
    this.list.push(event);
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /**
   * Appends an event that already carries the current envelope (built by a hot path as one object
   * literal, so the log need not copy it).
   */
  appendBuilt(event: EngineEvent): EngineEvent {
    this.list.push(event);
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /** Called for every event as it is logged (the CLI's --trace, the debugger's filters). */
  subscribe(listener: EventListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  get length(): number {
    return this.list.length;
  }

  at(index: number): EngineEvent {
    return this.list[index];
  }

  all(): readonly EngineEvent[] {
    return this.list;
  }

  slice(from: number, to?: number): EngineEvent[] {
    return this.list.slice(from, to);
  }

  /** Drops every event from `length` on (restoring a checkpoint). */
  truncate(length: number): void {
    this.list.length = Math.min(length, this.list.length);
  }
}
