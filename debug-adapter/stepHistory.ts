/**
 * What each step of the run did (who ran it, how deep its thread was, which events it logged), kept
 * in typed-array columns rather than one object per step: reverse execution needs the record of
 * every step since the start, and 10^6+ small objects would make every major GC walk them all.
 */

/** What step n did: who ran it, how deep its thread was, which events it logged. */
export interface StepRecord {
  thread: number;
  depthBefore: number;
  eventStart: number;
  eventEnd: number;
}

export class StepHistory {
  private threads = new Int32Array(1024);
  private depths = new Int32Array(1024);
  /** Event log positions (a log of 2^32 events would not fit in memory anyway). */
  private starts = new Uint32Array(1024);
  private ends = new Uint32Array(1024);
  private size = 0;

  get length(): number {
    return this.size;
  }

  /** Records step n (the next one, or one replayed below the end, whose record is the same). */
  set(n: number, rec: StepRecord): void {
    if (n > this.size) throw new Error(`step history: record ${n} after ${this.size}`);
    if (n === this.threads.length) this.grow();
    if (rec.eventEnd > 0xffff_ffff) throw new Error('step history: more than 2^32 events');
    this.threads[n] = rec.thread;
    this.depths[n] = rec.depthBefore;
    this.starts[n] = rec.eventStart;
    this.ends[n] = rec.eventEnd;
    if (n === this.size) this.size++;
  }

  /** The record of step n, or undefined past the end. */
  get(n: number): StepRecord | undefined {
    if (n < 0 || n >= this.size) return undefined;
    return this.at(n);
  }

  thread(n: number): number {
    return this.threads[n];
  }

  depthBefore(n: number): number {
    return this.depths[n];
  }

  /** Drops the records from n on (a debugger write changed the future). */
  truncate(n: number): void {
    this.size = Math.min(this.size, n);
  }

  private at(n: number): StepRecord {
    return {
      thread: this.threads[n],
      depthBefore: this.depths[n],
      eventStart: this.starts[n],
      eventEnd: this.ends[n],
    };
  }

  private grow(): void {
    const grow = <T extends Int32Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(a.length * 2);
      b.set(a);
      return b;
    };
    this.threads = grow(this.threads, (k) => new Int32Array(k));
    this.depths = grow(this.depths, (k) => new Int32Array(k));
    this.starts = grow(this.starts, (k) => new Uint32Array(k));
    this.ends = grow(this.ends, (k) => new Uint32Array(k));
  }
}
