/**
 * Run control: forward execution in chunks that yield to the event loop (so `pause` and other
 * requests are served while a program runs), and reverse execution by checkpoint + deterministic
 * replay. A *position* n is the state after step n (0 = before the first step). Every K steps a
 * copy-on-write checkpoint is kept; going back to n restores the checkpoint at or below n and
 * replays. Reverse-continue replays one checkpoint segment at a time, asks the breakpoints at every
 * position of it, and takes the last position that stops, so each segment is replayed at most twice.
 */
import type { Engine, EngineCheckpoint } from '../engine/engine';
import type { EngineEvent } from '../engine/events/eventTypes';
import type { Breakpoints, StopDecision } from './breakpoints';
import { auditAndLog } from './audits';
import type { DataBreakpoints } from './dataBreakpoints';
import { StepHistory } from './stepHistory';
import type { StepRecord } from './stepHistory';

export type { StepRecord } from './stepHistory';

export type StopReason = StopDecision['reason'] | 'step' | 'pause' | 'entry' | 'goto';

export interface Stop {
  reason: StopReason;
  thread: number;
  text: string | null;
  decision: StopDecision | null;
}

export interface RunHooks {
  /** New output lines and logpoint messages. */
  output(stream: 'stdout' | 'stderr' | 'console', text: string): void;
  /** Events logged by steps run for the first time (not replays), for `trace`. */
  events(events: readonly EngineEvent[]): void;
  stopped(stop: Stop): void;
  ended(): void;
}

/** What a forward run stops for besides breakpoints: true when the position after `rec` is the goal. */
export type Goal = (rec: StepRecord) => boolean;

/** First checkpoint interval; it doubles (dropping every other checkpoint) past MAX_CHECKPOINTS. */
const CHECKPOINT_EVERY = 64;
const MAX_CHECKPOINTS = 1024;
const CHUNK = 2000;
const NO_EVENTS: readonly EngineEvent[] = [];

export class RunControl {
  readonly history = new StepHistory();
  private readonly checkpoints = new Map<number, EngineCheckpoint>();
  /** Steps between checkpoints: replaying to any position costs at most this many steps. */
  private interval = CHECKPOINT_EVERY;
  /**
   * Positions where the debugger poked memory (§6.4): the poke is part of the history from there on,
   * so their checkpoints are never thinned and every pass through them (replay or a new forward run
   * after going back) continues from the poked state.
   */
  private readonly pinned = new Set<number>();
  private outputSent = 0;
  private eventsSent = 0;
  private pauseRequested = false;
  running = false;
  /** The run has ended (forward): a failed `expect` was shown, or every vCPU finished. */
  ended = false;
  /** Stopped at a failed `expect`: any forward resume ends the run (§6.1). */
  private atExpectFailure = false;

  constructor(
    private readonly engine: Engine,
    private readonly breakpoints: Breakpoints,
    private readonly data: DataBreakpoints,
    private readonly hooks: RunHooks,
    private readonly maxSteps: number,
  ) {
    this.checkpoints.set(0, engine.checkpoint());
  }

  get position(): number {
    return this.engine.stepCount;
  }

  /** How many checkpoints are kept (bounded by MAX_CHECKPOINTS plus the pinned ones). */
  get checkpointCount(): number {
    return this.checkpoints.size;
  }

  pause(): void {
    if (this.running) this.pauseRequested = true;
  }

  /** The frame depth of a thread now (0 when it has no frames). */
  depth(thread: number): number {
    return this.engine.interpreter.frameDepth(thread);
  }

  /** Runs forward until a breakpoint, the goal, a pause or the end. */
  async forward(goal: Goal | null): Promise<void> {
    if (this.atExpectFailure || this.engine.finished) return this.finish();
    this.running = true;
    this.pauseRequested = false;
    let first = true;
    try {
      for (;;) {
        for (let i = 0; i < CHUNK; i++) {
          if (this.engine.finished) return this.finish();
          if (this.position >= this.maxSteps) {
            const next = this.engine.interpreter.peekNext();
            this.engine.reportError(
              next?.line ?? 0,
              next?.column ?? 0,
              `step limit ${this.maxSteps} reached`,
            );
            this.flushOutput();
            return this.finish();
          }
          const rec = this.advance();
          this.flushOutput();
          const dataStop = this.breakpoints.ignoreAll ? null : this.data.check(rec.thread);
          const decision =
            this.breakpoints.check({
              forward: true,
              skipBefore: false,
              stepEvents: this.eventsOf(rec),
              log: (text) => this.hooks.output('console', text),
            }) ?? dataStop;
          first = false;
          if (decision !== null) {
            this.atExpectFailure = decision.event?.class === 'expect_failed';
            return this.stop({
              reason: decision.reason,
              thread: decision.thread,
              text: decision.text,
              decision,
            });
          }
          if (this.engine.finished && this.expectFailedAt(rec)) return this.finish();
          if (goal?.(rec))
            return this.stop({ reason: 'step', thread: rec.thread, text: null, decision: null });
        }
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.pauseRequested && !first) {
          const next = this.engine.interpreter.peekNext();
          return this.stop({ reason: 'pause', thread: next?.thread ?? 0, text: null, decision: null });
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** Goes to an earlier position and stops there. */
  backTo(target: number, reason: StopReason, thread: number): void {
    this.atExpectFailure = false;
    this.ended = false;
    this.goTo(target);
    this.stop({ reason, thread, text: null, decision: null });
  }

  /**
   * Reverse-continue: the last earlier position where a breakpoint stops; else position 0. A data
   * breakpoint stops at p when the sample changed from p−1 to p, so each segment is replayed through
   * its end position too (that transition belongs to no later segment). Between segments it yields
   * to the event loop, so a long way back answers requests and stops promptly on `pause`.
   */
  async reverseContinue(thread: number): Promise<void> {
    this.atExpectFailure = false;
    this.ended = false;
    this.running = true;
    this.pauseRequested = false;
    try {
      const origin = this.position;
      let end = origin;
      while (end > 0) {
        const start = this.checkpointAtOrBelow(end - 1);
        const found = this.lastStopIn(start, end, origin, thread);
        if (found !== null) {
          this.goTo(found.position);
          const d = found.decision;
          this.atExpectFailure = d.event?.class === 'expect_failed';
          return this.stop({ reason: d.reason, thread: d.thread, text: d.text, decision: d });
        }
        end = start;
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.pauseRequested) {
          this.goTo(end);
          return this.stop({ reason: 'pause', thread, text: null, decision: null });
        }
      }
      this.goTo(0);
      this.stop({ reason: 'entry', thread, text: null, decision: null });
    } finally {
      this.running = false;
    }
  }

  /** Replays [start, end] and returns the last position below `origin` where something stops. */
  private lastStopIn(
    start: number,
    end: number,
    origin: number,
    thread: number,
  ): { position: number; decision: StopDecision } | null {
    this.goTo(start);
    this.data.rebase();
    let found: { position: number; decision: StopDecision } | null = null;
    for (let p = start; p <= end; p++) {
      if (p > start) this.advance();
      const rec = p > 0 ? (this.history.get(p - 1) ?? null) : null;
      const dataStop = p > start ? this.data.check(rec?.thread ?? thread) : null;
      if (p >= origin) break;
      const decision =
        (p < end
          ? this.breakpoints.check({
              forward: false,
              skipBefore: false,
              stepEvents: rec ? this.eventsOf(rec) : [],
              log: () => undefined,
            })
          : null) ?? dataStop;
      if (decision !== null) found = { position: p, decision };
    }
    return found;
  }

  /** The last position p < now whose next step (`history[p]`) passes `test`; 0 when none. */
  findBack(test: (rec: StepRecord, position: number) => boolean): number {
    for (let p = this.position - 1; p >= 0; p--) if (test(this.history.get(p) as StepRecord, p)) return p;
    return 0;
  }

  /** Restores position n (checkpoint + replay). Positions past the history's end are not allowed. */
  goTo(n: number): void {
    if (n === this.position) return;
    const cp = this.checkpointAtOrBelow(n);
    if (n < this.position || cp > this.position)
      this.engine.restore(this.checkpoints.get(cp) as EngineCheckpoint);
    while (this.position < n && !this.engine.finished) this.advance();
    // Output already shown stays shown; output of steps replayed beyond it is sent later.
  }

  /** Drops the history after now (a debugger write changed the past's future). */
  truncateHistory(): void {
    this.history.truncate(this.position);
    for (const k of [...this.checkpoints.keys()]) if (k > this.position) this.checkpoints.delete(k);
    this.checkpoints.set(this.position, this.engine.checkpoint());
    this.pinned.add(this.position);
    for (const k of [...this.pinned]) if (k > this.position) this.pinned.delete(k);
    this.outputSent = Math.min(this.outputSent, this.engine.output.length);
    this.eventsSent = Math.min(this.eventsSent, this.engine.machine.log.length);
  }

  eventsOf(rec: StepRecord): readonly EngineEvent[] {
    return rec.eventStart === rec.eventEnd
      ? NO_EVENTS
      : this.engine.machine.log.slice(rec.eventStart, rec.eventEnd);
  }

  /** Events of the step that led to the current position. */
  lastStepEvents(): readonly EngineEvent[] {
    const rec = this.history.get(this.position - 1);
    return rec ? this.eventsOf(rec) : [];
  }

  private advance(): StepRecord {
    const n = this.position;
    if (n % this.interval === 0 && !this.checkpoints.has(n)) {
      this.checkpoints.set(n, this.engine.checkpoint());
      if (this.checkpoints.size > MAX_CHECKPOINTS) this.thin();
    }
    const next = this.engine.interpreter.peekNext();
    const thread = next?.thread ?? 0;
    const depthBefore = next ? this.depth(thread) : 0;
    const eventStart = this.engine.machine.log.length;
    this.engine.step();
    if (this.breakpoints.invariantFilterOn) auditAndLog(this.engine);
    const rec = { thread, depthBefore, eventStart, eventEnd: this.engine.machine.log.length };
    this.history.set(n, rec);
    const poked = this.pinned.has(n + 1) ? this.checkpoints.get(n + 1) : undefined;
    if (poked !== undefined) this.engine.restore(poked);
    return rec;
  }

  /** Long runs keep memory bounded: double the interval, keep the checkpoints on it (and step 0). */
  private thin(): void {
    this.interval *= 2;
    for (const k of [...this.checkpoints.keys()])
      if (k % this.interval !== 0 && !this.pinned.has(k)) this.checkpoints.delete(k);
  }

  private checkpointAtOrBelow(n: number): number {
    let best = 0;
    for (const k of this.checkpoints.keys()) if (k <= n && k > best) best = k;
    return best;
  }

  private expectFailedAt(rec: StepRecord): boolean {
    return this.eventsOf(rec).some((e) => e.class === 'expect_failed');
  }

  private flushOutput(): void {
    const log = this.engine.machine.log;
    if (this.eventsSent < log.length) {
      this.hooks.events(log.slice(this.eventsSent));
      this.eventsSent = log.length;
    }
    const out = this.engine.output;
    for (; this.outputSent < out.length; this.outputSent++) {
      const line = out[this.outputSent];
      this.hooks.output(line.stream, line.text);
    }
  }

  private stop(stop: Stop): void {
    this.running = false;
    this.data.rebase();
    this.hooks.stopped(stop);
  }

  private finish(): void {
    this.running = false;
    this.flushOutput();
    this.ended = true;
    this.hooks.ended();
  }
}
