/**
 * Issue 2's figures: interpreter statements per second on a loop of arithmetic and memory writes,
 * and walks per second of the walker over a table mapping 1 GiB with 4 KiB pages, with and without
 * the TLB, each beside a baseline measured in the same run (a plain loop reading the same entries).
 */
import { loadEngine } from '../engine/engine';
import { MachineMemory } from '../engine/memory/machineMemory';
import { Tlb } from '../engine/paging/tlb';
import { walkTables } from '../engine/paging/walkTables';
import type { BenchResult } from './benchResult';
import { rate } from './benchResult';

const LOOP_PROGRAM = `
domain vm hvm memory=64M paging=hap
vcpu vm
    let l4 = alloc()
    let l3 = alloc()
    let l2 = alloc()
    write pte_addr(l4, 0), gpa(l3) | P | RW
    write pte_addr(l3, 0), gpa(l2) | P | RW
    write pte_addr(l2, 0), 0 | P | RW | PS
    mov cr3, gpa(l4)
    mov cr0, cr0 | PG
    let x = 1
    let i = 0
    while 1
        x = x * 3 + i
        write 0x10_0000 + (i & 0xff) * 8, x
        i = i + 1
    end
end
`;

export function interpreterBench(): BenchResult[] {
  const { engine } = loadEngine(LOOP_PROGRAM, 'bench.guest');
  if (engine === null) throw new Error('bench program rejected');
  const perSecond = rate(() => {
    for (let i = 0; i < 10_000; i++) engine.step();
    return 10_000;
  }, 1000);
  return [
    {
      name: 'interpreter: statements/s (arithmetic + writes through the TLB)',
      value: perSecond,
      unit: 'stmt/s',
      target: '≥ 1,000,000 stmt/s',
    },
  ];
}

/** Builds a 4-level table mapping 1 GiB (262144 4 KiB pages) at va 0 in machine frames. */
function buildGigabyteTable(memory: MachineMemory): { root: number; l1s: number[] } {
  const root = 1;
  const l3 = 2;
  const l2 = 3;
  memory.writeEntryBig(root, 0, (BigInt(l3) << 12n) | 7n);
  memory.writeEntryBig(l3, 0, (BigInt(l2) << 12n) | 7n);
  const l1s: number[] = [];
  for (let i = 0; i < 512; i++) {
    const l1 = 16 + i;
    l1s.push(l1);
    memory.writeEntryBig(l2, i, (BigInt(l1) << 12n) | 7n);
    for (let j = 0; j < 512; j++) memory.writeEntry(l1, j, (((0x10000 + i * 512 + j) << 12) | 7) >>> 0, 0);
  }
  return { root, l1s };
}

export function walkerBench(): BenchResult[] {
  const memory = new MachineMemory();
  const { root, l1s } = buildGigabyteTable(memory);
  const pages = 512 * 512;
  let sink = 0;
  // Walk pages in a scattered order so neither JS nor the TLB sees a trivial pattern.
  const order = new Uint32Array(pages);
  for (let i = 0; i < pages; i++) order[i] = (i * 40503) % pages;

  const baseline = rate(() => {
    for (let k = 0; k < 65536; k++) {
      const p = order[k & (pages - 1)];
      sink ^=
        memory.readLo(root, 0) ^
        memory.readLo(2, 0) ^
        memory.readLo(3, p >>> 9) ^
        memory.readLo(l1s[p >>> 9], p & 511);
    }
    return 65536;
  });
  const walks = rate(() => {
    for (let k = 0; k < 65536; k++) {
      const p = order[k & (pages - 1)];
      const w = walkTables({
        memory,
        root,
        va48: p * 4096,
        access: 'read',
        user: false,
        wp: true,
        nxe: true,
        allow1G: true,
        maxPhysBits: 46,
        setAD: false,
      });
      sink ^= w.frame;
    }
    return 65536;
  });
  const tlb = new Tlb();
  const withTlb = rate(() => {
    for (let k = 0; k < 65536; k++) {
      const p = order[k & 1023]; // a working set of 1024 pages: the TLB's hit path
      const e = tlb.lookupFor(p, false, false, false, true);
      if (e !== undefined) {
        sink ^= e.mfn;
        continue;
      }
      const w = walkTables({
        memory,
        root,
        va48: p * 4096,
        access: 'read',
        user: false,
        wp: true,
        nxe: true,
        allow1G: true,
        maxPhysBits: 46,
        setAD: false,
      });
      tlb.fill({ vpn: p, mfn: w.frame, rw: w.rw, us: w.us, nx: w.nx, global: w.global, filledAt: 0 });
      sink ^= w.frame;
    }
    return 65536;
  });
  if (sink === 0.5) console.log(sink);
  const base = { name: 'plain loop reading the same 4 entries', value: baseline };
  return [
    {
      name: 'walker: walks/s without the TLB (1 GiB of 4 KiB pages)',
      value: walks,
      unit: 'walks/s',
      baseline: base,
    },
    { name: 'walker: translations/s with the TLB (hits)', value: withTlb, unit: 'walks/s', baseline: base },
  ];
}
