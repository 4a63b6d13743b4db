/**
 * Benchmarks of the PV memory manager (issue 3):
 * - validated `mmu_update`s per second: batches of L1 updates that each take a new frame's
 *   references and release the old one's (the full path of `mod_l1_entry`), against a loop that only
 *   writes the same entries into machine memory, in the same run;
 * - the time to pin an L4 covering 4 GiB of 4 KiB pages (1M L1 entries validated).
 * Each is measured with the ref_taken/ref_dropped events on (the default) and off, since a million
 * events cost time of their own.
 */
import { Machine } from '../engine/machine/machine';
import type { ModelFactory } from '../engine/machine/machine';
import type { DomainKind } from '../engine/machine/domainModel';
import type { MmuUpdateRequest } from '../engine/language/host';
import { createPvModel } from '../engine/pv/pvModel';
import type { PvModel } from '../engine/pv/pvModel';
import { setPvRefEvents } from '../engine/pv/pvContext';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
}

const MIB = 1024n * 1024n;

function pvMachine(memory: bigint): Machine {
  const factories = { pv: createPvModel } as unknown as Record<DomainKind, ModelFactory>;
  return new Machine(
    {
      poolBytes: null,
      domains: [{ name: 'a', id: 1, kind: 'pv', memory, vcpus: 1, privileged: false, paging: null }],
    },
    factories,
  );
}

function now(): number {
  return performance.now();
}

/** Validated L1 updates per second, and the plain-write loop over the same entries. */
function benchMmuUpdate(refEvents: boolean): BenchResult[] {
  const machine = pvMachine(64n * MIB);
  setPvRefEvents(machine, refEvents);
  const d = machine.domains[0];
  const model = d.model as PvModel;
  const v = d.vcpus[0];
  const l1 = d.pfnToMfn(0);
  model.mmuext(v, 'pin_l1_table', BigInt(l1));
  // Two batches of 512 requests: entry i maps data frame A(i), then B(i) (both writable).
  const batch = (base: number): MmuUpdateRequest[] =>
    Array.from({ length: 512 }, (_, i) => ({
      ptr: (BigInt(l1) << 12n) | BigInt(i * 8),
      val: (BigInt(d.pfnToMfn(base + i)) << 12n) | 0x7n,
    }));
  const batches = [batch(1), batch(1 + 512)];
  const rounds = 400;
  for (let r = 0; r < 20; r++) model.mmuUpdate(v, batches[r & 1], null);
  machine.log.truncate(0);
  const t0 = now();
  for (let r = 0; r < rounds; r++) {
    model.mmuUpdate(v, batches[r & 1], null);
    if ((r & 31) === 31) machine.log.truncate(0);
  }
  const t1 = now();
  if (v.state.rc !== 0n) throw new Error('benchmark mmu_update failed');
  const updates = rounds * 512;
  const perSecond = updates / ((t1 - t0) / 1000);

  // The baseline: write the same entry values with nothing else.
  const values = batches.map((b) =>
    b.map((r) => [Number(r.val & 0xffffffffn), Number(r.val >> 32n)] as const),
  );
  const mem = machine.memory;
  const t2 = now();
  for (let r = 0; r < rounds; r++) {
    const vs = values[r & 1];
    for (let i = 0; i < 512; i++) mem.writeEntry(l1, i, vs[i][0], vs[i][1]);
  }
  const t3 = now();
  const rawPerSecond = updates / ((t3 - t2) / 1000);
  const suffix = refEvents ? '' : ' (ref events off)';
  return [
    {
      name: `validated mmu_update L1 requests per second${suffix}`,
      value: Math.round(perSecond),
      unit: 'ops/s',
      baseline: 2_000_000,
    },
    {
      name: `validated mmu_update time / raw entry write time${suffix}`,
      value: Number((rawPerSecond / perSecond).toFixed(1)),
      unit: 'x',
      baseline: 5,
    },
  ];
}

/** Pins an L4 whose tables map 4 GiB with 4 KiB pages (2048 L1s, 1M entries). */
function benchPinL4(refEvents: boolean, writable: boolean): BenchResult {
  const machine = pvMachine(4096n * MIB + 16n * MIB);
  setPvRefEvents(machine, refEvents);
  const d = machine.domains[0];
  const mem = machine.memory;
  const pages = 1 << 20;
  const l1s = pages / 512;
  const tableBase = pages; // pfns of the tables follow the data pages
  const l4 = d.pfnToMfn(tableBase);
  const l3 = d.pfnToMfn(tableBase + 1);
  const flags = writable ? 0x7 : 0x5;
  for (let t = 0; t < l1s; t++) {
    const m = d.pfnToMfn(tableBase + 8 + t);
    for (let i = 0; i < 512; i++) {
      const data = d.pfnToMfn(t * 512 + i);
      mem.writeEntry(m, i, ((data % 0x100000) * 4096 + flags) >>> 0, Math.floor(data / 0x100000));
    }
  }
  for (let g = 0; g < 4; g++) {
    const l2 = d.pfnToMfn(tableBase + 2 + g);
    for (let i = 0; i < 512; i++) {
      const m = d.pfnToMfn(tableBase + 8 + g * 512 + i);
      mem.writeEntry(l2, i, ((m % 0x100000) * 4096 + 0x7) >>> 0, Math.floor(m / 0x100000));
    }
    mem.writeEntry(l3, g, ((l2 % 0x100000) * 4096 + 0x7) >>> 0, Math.floor(l2 / 0x100000));
  }
  mem.writeEntry(l4, 0, ((l3 % 0x100000) * 4096 + 0x7) >>> 0, Math.floor(l3 / 0x100000));
  const model = d.model as PvModel;
  const t0 = now();
  model.mmuext(d.vcpus[0], 'pin_l4_table', BigInt(l4));
  const t1 = now();
  if (d.vcpus[0].state.rc !== 0n) throw new Error('benchmark pin failed');
  const what = writable ? 'writable' : 'read-only';
  return {
    name: `pin an L4 mapping 4 GiB of ${what} 4K pages (1M L1 entries)${refEvents ? '' : ' (ref events off)'}`,
    value: Number((t1 - t0).toFixed(1)),
    unit: 'ms',
    baseline: 100,
  };
}

export function runPvBench(): BenchResult[] {
  return [
    ...benchMmuUpdate(true),
    ...benchMmuUpdate(false),
    benchPinL4(true, false),
    benchPinL4(false, false),
    benchPinL4(false, true),
  ];
}
