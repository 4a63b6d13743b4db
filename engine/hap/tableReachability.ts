/**
 * Which guest frames are reachable as page tables, and at which levels, from the CR3 of the vCPUs
 * with paging on (hvm-paging.md R9.2: a HAP guest's write to such a frame logs `entry_update` with
 * the lowest level at which the frame is reachable).
 *
 * Recomputing the hierarchy on every write would make building a large table quadratic, so the
 * tracker keeps a reference count per (gfn, level): one per CR3 naming the frame as an L4, plus one
 * per present entry of a reachable level-(L+1) table pointing at it. Levels strictly decrease along
 * an edge, so the graph of (gfn, level) pairs has no cycles — even with a self-mapping L4, whose
 * frame is then also reachable as an L3 — and counting is exact. When a pair becomes reachable its
 * entries are scanned once and their targets counted; when it stops, they are uncounted.
 */
import type { MachineMemory } from '../memory/machineMemory';
import { PTE_P, PTE_PS } from '../paging/pte';

const TWO_20 = 0x100000;

export interface TableReachabilitySnapshot {
  readonly counts: ReadonlyMap<number, number>;
}

export class TableReachability {
  private counts = new Map<number, number>();

  constructor(
    private readonly memory: MachineMemory,
    /** gfn → mfn, −1 when unbacked. */
    private readonly gfnToMfn: (gfn: number) => number,
  ) {}

  /** Lowest level (1–4) at which the frame is reachable as a table, or 0. */
  lowestLevel(gfn: number): number {
    for (let level = 1; level <= 4; level++) if (this.counts.has(gfn * 4 + level - 1)) return level;
    return 0;
  }

  /** Levels > 1 at which the frame is reachable (its entries point at lower tables). */
  upperLevels(gfn: number): number[] {
    const out: number[] = [];
    for (let level = 2; level <= 4; level++) if (this.counts.has(gfn * 4 + level - 1)) out.push(level);
    return out;
  }

  addRoot(gfn: number): void {
    this.inc(gfn, 4);
  }

  removeRoot(gfn: number): void {
    this.dec(gfn, 4);
  }

  /** An 8-byte slot of a table reachable at `level` (> 1) changed from `old` to `now`. */
  entryChanged(level: number, oldLo: number, oldHi: number, newLo: number, newHi: number): void {
    const before = this.childOf(level, oldLo, oldHi);
    const after = this.childOf(level, newLo, newHi);
    if (before === after) return;
    if (after >= 0) this.inc(after, level - 1);
    if (before >= 0) this.dec(before, level - 1);
  }

  snapshot(): TableReachabilitySnapshot {
    return { counts: new Map(this.counts) };
  }

  restore(s: TableReachabilitySnapshot): void {
    this.counts = new Map(s.counts);
  }

  /** The gfn of the next-level table an entry names, or −1 (not present, a leaf, or unbacked). */
  private childOf(level: number, lo: number, hi: number): number {
    if ((lo & PTE_P) === 0) return -1;
    if (level <= 3 && (lo & PTE_PS) !== 0) return -1;
    if (level === 4 && (lo & PTE_PS) !== 0) return -1;
    const gfn = (hi & 0xfffff) * TWO_20 + (lo >>> 12);
    return this.gfnToMfn(gfn) < 0 ? -1 : gfn;
  }

  private inc(gfn: number, level: number): void {
    const key = gfn * 4 + level - 1;
    const c = this.counts.get(key) ?? 0;
    this.counts.set(key, c + 1);
    if (c === 0 && level > 1) this.forEachChild(gfn, level, (child) => this.inc(child, level - 1));
  }

  private dec(gfn: number, level: number): void {
    const key = gfn * 4 + level - 1;
    const c = this.counts.get(key) ?? 0;
    if (c <= 1) {
      this.counts.delete(key);
      if (c === 1 && level > 1) this.forEachChild(gfn, level, (child) => this.dec(child, level - 1));
    } else {
      this.counts.set(key, c - 1);
    }
  }

  private forEachChild(gfn: number, level: number, f: (child: number) => void): void {
    const mfn = this.gfnToMfn(gfn);
    if (mfn < 0 || !this.memory.isTouched(mfn)) return;
    const words = this.memory.frameWords(mfn);
    for (let i = 0; i < 512; i++) {
      const child = this.childOf(level, words[2 * i], words[2 * i + 1]);
      if (child >= 0) f(child);
    }
  }
}
