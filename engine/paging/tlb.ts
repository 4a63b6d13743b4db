/**
 * A per-vCPU TLB, consulted before the walk as the hardware does. Each entry caches, for one 4 KiB
 * virtual page, the machine frame it reached and the rights combined over the walk (RW, US and NX
 * effective at every level) plus G from the leaf. An entry stays — stale or not — until something
 * flushes it, which is what lets a user watch a stale-TLB bug happen.
 *
 * A lookup is one Map probe; the rights test is a few bit tests on the stored entry.
 */

export interface TlbEntry {
  /** Virtual page number (va48 / 4096). */
  readonly vpn: number;
  readonly mfn: number;
  readonly rw: boolean;
  readonly us: boolean;
  readonly nx: boolean;
  readonly global: boolean;
  /**
   * The leaf's D bit was set when the entry was filled. A write through an entry whose D is clear
   * walks again so that D gets set in memory, as the hardware does (SDM §4.8). Absent = dirty.
   */
  readonly dirty?: boolean;
  /** Step that filled it (for the debugger's TLB view). */
  readonly filledAt: number;
}

export interface TlbSnapshot {
  readonly entries: ReadonlyMap<number, TlbEntry>;
}

export class Tlb {
  private entries = new Map<number, TlbEntry>();

  lookup(vpn: number): TlbEntry | undefined {
    return this.entries.get(vpn);
  }

  /** An entry that permits the access, or undefined (a miss). */
  lookupFor(vpn: number, write: boolean, user: boolean, fetch: boolean, wp: boolean): TlbEntry | undefined {
    const e = this.entries.get(vpn);
    if (e === undefined) return undefined;
    if (user && !e.us) return undefined;
    if (write && ((!e.rw && (user || wp)) || e.dirty === false)) return undefined;
    if (fetch && e.nx) return undefined;
    return e;
  }

  fill(entry: TlbEntry): void {
    this.entries.set(entry.vpn, entry);
  }

  /** Drops the entry for one page; returns whether there was one. */
  invalidate(vpn: number): boolean {
    return this.entries.delete(vpn);
  }

  flushAll(): void {
    this.entries.clear();
  }

  flushNonGlobal(): void {
    for (const [vpn, e] of this.entries) if (!e.global) this.entries.delete(vpn);
  }

  get size(): number {
    return this.entries.size;
  }

  all(): TlbEntry[] {
    return [...this.entries.values()].sort((a, b) => a.vpn - b.vpn);
  }

  snapshot(): TlbSnapshot {
    return { entries: new Map(this.entries) };
  }

  restore(s: TlbSnapshot): void {
    this.entries = new Map(s.entries);
  }
}
