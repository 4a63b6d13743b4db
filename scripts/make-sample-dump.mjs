// Writes examples/dumps/sample.elf: a 32 KiB guest in the ELF layout QEMU's dump-guest-memory uses
// (ELF header, PT_NOTE, PT_LOADs, per-vCPU CORE NT_PRSTATUS notes, then per-vCPU QEMU notes holding
// QEMUCPUState with cr[0..4] at offset 392, then the memory), so that `pagewalk mappings` and
// `pagewalk walk` can be tried without a VM. Run: node scripts/make-sample-dump.mjs
//
// The tables (vCPU 0 and 1 share CR3 0x1000; vCPU 1's CR3 carries PCID 1):
//   PML4 0x1000 [0] user half → PDPT 0x2000; [273] direct map → PDPT 0x5000;
//               [510] → itself (a recursive self-map); [511] kernel text → PDPT 0x6000
//   PDPT 0x2000 [0] → PD 0x3000          PD 0x3000 [2] → PT 0x4000
//   PT   0x4000 [0] code 0x7000 (U, read-only, executable), [1] data 0x8000 (U, RW, NX),
//               [511] stack 0x9000 (U, RW, NX, dirty)
//   PDPT 0x5000 [0] 1 GiB at 0 (RW, G, NX): the direct map at 0xffff888000000000
//   PDPT 0x6000 [510] → PD at frame 0 (otherwise unused): [8] 2 MiB kernel text at 0x1000000
//               (read-only, G, executable) = 0xffffffff81000000, [9] 2 MiB kernel data (RW, G, NX)
import { mkdirSync, writeFileSync } from 'node:fs';

const P = 1n,
  RW = 2n,
  US = 4n,
  A = 0x20n,
  D = 0x40n,
  PS = 0x80n,
  G = 0x100n,
  NX = 1n << 63n;
const memory = new Uint8Array(0x8000);
const mem = new DataView(memory.buffer);
const entry = (table, index, value) => mem.setBigUint64(table + index * 8, value, true);

entry(0x1000, 0, 0x2000n | P | RW | US | A);
entry(0x1000, 273, 0x5000n | P | RW | A);
entry(0x1000, 510, 0x1000n | P | RW | A);
entry(0x1000, 511, 0x6000n | P | RW | A);
entry(0x2000, 0, 0x3000n | P | RW | US | A);
entry(0x3000, 2, 0x4000n | P | RW | US | A);
entry(0x4000, 0, 0x7000n | P | US | A);
entry(0x4000, 1, 0x8000n | P | RW | US | A | NX);
entry(0x4000, 511, 0x9000n | P | RW | US | A | D | NX);
entry(0x5000, 0, 0n | P | RW | PS | G | A | D | NX);
entry(0x6000, 510, 0x0n | P | RW | A);
entry(0x0, 8, 0x1000000n | P | PS | G | A);
entry(0x0, 9, 0x1200000n | P | RW | PS | G | A | D | NX);

const cpus = [
  { cr0: 0x80050033n, cr3: 0x1000n, cr4: 0x3606f0n },
  { cr0: 0x80050033n, cr3: 0x1001n, cr4: 0x3606f0n },
];

const PRSTATUS = 336;
const STATE = 440;
const phnum = 2;
const notesAt = 64 + phnum * 56;
const noteSize = cpus.length * (20 + PRSTATUS) + cpus.length * (20 + STATE);
const dataAt = notesAt + noteSize;
const out = new Uint8Array(dataAt + memory.length);
const v = new DataView(out.buffer);
out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
v.setUint16(16, 4, true); // ET_CORE
v.setUint16(18, 62, true); // EM_X86_64
v.setUint32(20, 1, true);
v.setBigUint64(32, 64n, true);
v.setUint16(52, 64, true);
v.setUint16(54, 56, true);
v.setUint16(56, phnum, true);
const phdr = (i, type, offset, paddr, size) => {
  const at = 64 + i * 56;
  v.setUint32(at, type, true);
  v.setBigUint64(at + 8, BigInt(offset), true);
  v.setBigUint64(at + 16, BigInt(paddr), true);
  v.setBigUint64(at + 24, BigInt(paddr), true);
  v.setBigUint64(at + 32, BigInt(size), true);
  v.setBigUint64(at + 40, BigInt(size), true);
};
phdr(0, 4, notesAt, 0, noteSize);
phdr(1, 1, dataAt, 0, memory.length);
let at = notesAt;
const note = (name, type, size) => {
  v.setUint32(at, 5, true);
  v.setUint32(at + 4, size, true);
  v.setUint32(at + 8, type, true);
  out.set(
    [...name].map((c) => c.charCodeAt(0)),
    at + 12,
  );
  const desc = at + 20;
  at = desc + size;
  return desc;
};
cpus.forEach((_, i) => v.setUint32(note('CORE', 1, PRSTATUS) + 32, i + 1, true));
for (const cpu of cpus) {
  const desc = note('QEMU', 0, STATE);
  v.setUint32(desc, 1, true);
  v.setUint32(desc + 4, STATE, true);
  v.setBigUint64(desc + 392, cpu.cr0, true);
  v.setBigUint64(desc + 416, cpu.cr3, true);
  v.setBigUint64(desc + 424, cpu.cr4, true);
}
out.set(memory, dataAt);

const dir = new URL('../examples/dumps/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('sample.elf', dir), out);
console.log(`wrote examples/dumps/sample.elf (${out.length} bytes)`);
