/**
 * R3.8: the unpaged map. While CR0.PG = 0 Xen runs the vCPU on a 32-bit identity table of its own
 * (`unpaged_pagetable`, `write_32bit_pse_identmap`) and shadows it with fl1 shadows. Those shadows
 * shadow no guest frame and are not counted, but what their entries hold shows: a frame written
 * with paging off is mapped writable there (R5.4) until it first becomes a table (R5.1), and an
 * unbacked page gets a magic MMIO entry (R1.2's fetch code). So the model keeps, per domain and per
 * 4K page of gpa, the state of that entry; the map is not truncated at 4 GiB (R1.5).
 *
 *   state      entry in Xen's fl1
 *   (absent)   empty: the first access faults
 *   RAM_RO     the page's mfn, RW clear (the frame is a shadowed table, or R5.1 removed RW)
 *   RAM_RW     the page's mfn, writable
 *   MAGIC      magic MMIO entry: the gpa is not RAM
 */

export const UNPAGED_RAM_RO = 1;
export const UNPAGED_RAM_RW = 2;
export const UNPAGED_MAGIC = 3;
export type UnpagedEntry = 0 | typeof UNPAGED_RAM_RO | typeof UNPAGED_RAM_RW | typeof UNPAGED_MAGIC;

export class UnpagedMap {
  private entries = new Map<number, number>();

  get(page: number): UnpagedEntry {
    return (this.entries.get(page) ?? 0) as UnpagedEntry;
  }

  set(page: number, entry: Exclude<UnpagedEntry, 0>): void {
    this.entries.set(page, entry);
  }

  /** R5.1 on the unpaged shadows: clears RW of the frame's entry; returns whether it changed. */
  removeWriteAccess(page: number): boolean {
    if (this.entries.get(page) !== UNPAGED_RAM_RW) return false;
    this.entries.set(page, UNPAGED_RAM_RO);
    return true;
  }

  /**
   * Whether any page of the 4 MiB block `block` (page >> 10) has an entry: exactly when the shadow L2
   * entries of Xen's unpaged table for that 4 MiB PSE mapping point at their fl1 shadow (the first
   * fault in the block installs them and they are never removed).
   */
  blockFilled(block: number): boolean {
    const first = block * 1024;
    for (let page = first; page < first + 1024; page++) if (this.entries.has(page)) return true;
    return false;
  }

  mapsWritable(page: number): boolean {
    return this.entries.get(page) === UNPAGED_RAM_RW;
  }

  snapshot(): ReadonlyMap<number, number> {
    return new Map(this.entries);
  }

  restore(s: ReadonlyMap<number, number>): void {
    this.entries = new Map(s);
  }
}
