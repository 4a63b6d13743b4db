/**
 * Builds small guest memory images and QEMU-style ELF cores for the CLI tests, so that every table
 * and every byte of the file is known: a raw image is physical memory from 0; a core has the layout
 * dump-guest-memory writes (ELF header, PT_NOTE, PT_LOADs, then the notes — a CORE NT_PRSTATUS per
 * vCPU, then a QEMU note per vCPU — then the memory).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const P = 0x1n;
export const RW = 0x2n;
export const US = 0x4n;
export const PWT = 0x8n;
export const PCD = 0x10n;
export const A = 0x20n;
export const D = 0x40n;
export const PS = 0x80n;
export const G = 0x100n;
export const NX = 1n << 63n;

/** Physical memory from address 0, written entry by entry. */
export class PhysMemory {
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Entry `index` of the table at physical `table`. */
  entry(table: number, index: number, value: bigint): this {
    this.view.setBigUint64(table + index * 8, value, true);
    return this;
  }
}

export interface CpuRegisters {
  cr0?: bigint;
  cr3: bigint;
  cr4?: bigint;
}

export interface CoreOptions {
  /** Guest-physical segments: [paddr, bytes]. */
  segments: [number, Uint8Array][];
  cpus: CpuRegisters[];
  /** Size of the QEMUCPUState descriptor (432 in QEMU 2.x–5.x, 440 once kernel_gs_base was added). */
  stateSize?: number;
}

export const CR0_PG_PE = 0x80000011n;
export const CR4_PAE = 0x20n;
export const CR4_LA57 = 0x1000n;

const PRSTATUS_SIZE = 336;

/** An ELF64 x86-64 core laid out as dump-guest-memory writes it. */
export function elfCore(o: CoreOptions): Uint8Array {
  const stateSize = o.stateSize ?? 440;
  const phnum = 1 + o.segments.length;
  const noteSize = o.cpus.length * (12 + 8 + PRSTATUS_SIZE) + o.cpus.length * (12 + 8 + stateSize);
  const notesAt = 64 + phnum * 56;
  let dataAt = notesAt + noteSize;
  const total = dataAt + o.segments.reduce((n, [, b]) => n + b.length, 0);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  v.setUint16(16, 4, true); // ET_CORE
  v.setUint16(18, 62, true); // EM_X86_64
  v.setUint32(20, 1, true);
  v.setBigUint64(32, 64n, true); // e_phoff
  v.setUint16(52, 64, true);
  v.setUint16(54, 56, true);
  v.setUint16(56, phnum, true);
  const phdr = (i: number, type: number, offset: number, paddr: number, size: number) => {
    const at = 64 + i * 56;
    v.setUint32(at, type, true);
    v.setBigUint64(at + 8, BigInt(offset), true);
    v.setBigUint64(at + 16, BigInt(paddr), true);
    v.setBigUint64(at + 24, BigInt(paddr), true);
    v.setBigUint64(at + 32, BigInt(size), true);
    v.setBigUint64(at + 40, BigInt(size), true);
  };
  phdr(0, 4, notesAt, 0, noteSize);
  let at = notesAt;
  const note = (name: string, type: number, descsz: number): number => {
    v.setUint32(at, 5, true);
    v.setUint32(at + 4, descsz, true);
    v.setUint32(at + 8, type, true);
    out.set(
      [...name].map((c) => c.charCodeAt(0)),
      at + 12,
    );
    const desc = at + 20;
    at = desc + descsz;
    return desc;
  };
  o.cpus.forEach((_, i) => v.setUint32(note('CORE', 1, PRSTATUS_SIZE) + 32, i + 1, true));
  for (const cpu of o.cpus) {
    const desc = note('QEMU', 0, stateSize);
    v.setUint32(desc, 1, true);
    v.setUint32(desc + 4, stateSize, true);
    v.setBigUint64(desc + 392, cpu.cr0 ?? CR0_PG_PE, true);
    v.setBigUint64(desc + 416, cpu.cr3, true);
    v.setBigUint64(desc + 424, cpu.cr4 ?? CR4_PAE, true);
  }
  o.segments.forEach(([paddr, bytes], i) => {
    phdr(1 + i, 1, dataAt, paddr, bytes.length);
    out.set(bytes, dataAt);
    dataAt += bytes.length;
  });
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'pagewalk-dump-'));
let counter = 0;

/** Writes bytes to a fresh temporary file and returns its path. */
export function tempFile(bytes: Uint8Array, name = 'guest'): string {
  const path = join(dir, `${name}-${++counter}.bin`);
  writeFileSync(path, bytes);
  return path;
}

/**
 * The tables most tests read (a 32 KiB raw image, CR3 0x1000):
 *   PML4 0x1000: [0] → PDPT 0x2000 (P RW US), [256] → PDPT 0x6000 (P RW), [511] → itself (P RW)
 *   PDPT 0x2000: [0] → PD 0x3000 (P RW US), [1] 1 GiB at 0x40000000 (P RW US PS G, PAT bit 12)
 *   PD   0x3000: [0] → PT 0x4000 (P RW US A), [1] 2 MiB at 0x200000 (P RW PS A D),
 *                [2] 2 MiB at 0x400000 (P PS NX)
 *   PT   0x4000: [0] 0x5000 (P RW A D), [1] 0x6000 (P US G NX), [2] 0x7000 (P RW US PWT PCD PAT),
 *                [3] 0x300000008000 (P RW US), [5] 0x9000 (P RW US)
 *   PDPT 0x6000: [0] → PD 0x7000 (P RW)
 *   PD   0x7000: [0] 2 MiB at 0 and [1] 2 MiB at 0x200000 (P RW PS G A D NX)
 */
export function standardTables(): PhysMemory {
  return new PhysMemory(0x8000)
    .entry(0x1000, 0, 0x2000n | P | RW | US)
    .entry(0x1000, 256, 0x6000n | P | RW)
    .entry(0x1000, 511, 0x1000n | P | RW)
    .entry(0x2000, 0, 0x3000n | P | RW | US)
    .entry(0x2000, 1, 0x40000000n | 0x1000n | P | RW | US | PS | G)
    .entry(0x3000, 0, 0x4000n | P | RW | US | A)
    .entry(0x3000, 1, 0x200000n | P | RW | PS | A | D)
    .entry(0x3000, 2, 0x400000n | P | PS | NX)
    .entry(0x4000, 0, 0x5000n | P | RW | A | D)
    .entry(0x4000, 1, 0x6000n | P | US | G | NX)
    .entry(0x4000, 2, 0x7000n | P | RW | US | PWT | PCD | PS)
    .entry(0x4000, 3, 0x300000008000n | P | RW | US)
    .entry(0x4000, 5, 0x9000n | P | RW | US)
    .entry(0x6000, 0, 0x7000n | P | RW)
    .entry(0x7000, 0, 0x0n | P | RW | PS | G | A | D | NX)
    .entry(0x7000, 1, 0x200000n | P | RW | PS | G | A | D | NX);
}
