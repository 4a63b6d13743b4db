/**
 * Issue 3's figures for the PV memory manager:
 * - validated `mmu_update`s per second: batches of L1 updates that each take a new frame's
 *   references and release the old one's (the full path of `mod_l1_entry`, R5.4), against a loop
 *   that only writes the same entries from the same requests (decode PTR and VAL, store 8 bytes),
 *   measured in the same run. Targets: ≥ 2M/s, and ≤ 5× the plain loop.
 * - the time to pin an L4 covering 4 GiB of 4 KiB pages (2048 L1s, 1M L1 entries validated).
 *   Target: ≤ 100 ms.
 * Each is measured with the per-entry events (`ref_taken`, `ref_dropped`, `entry_update`) logged, as
 * every run logs them (packed rows in the log, `EventLog.stagePacked`), and without them, as an
 * embedder that never reads the log runs: the difference is the log's cost, not validation's.
 */
import { Machine } from '../engine/machine/machine';
import { MODEL_FACTORIES } from '../engine/machine/modelFactories';
import type { MmuUpdateRequest } from '../engine/language/host';
import type { MachineMemory } from '../engine/memory/machineMemory';
import type { PvModel } from '../engine/pv/pvModel';
import { setPvEntryEvents } from '../engine/pv/pvContext';
import type { BenchResult } from './benchResult';

const MIB = 1024n * 1024n;
const BATCH = 512;

function pvMachine(memory: bigint): Machine {
  return new Machine(
    {
      poolBytes: null,
      domains: [{ name: 'a', id: 1, kind: 'pv', memory, vcpus: 1, privileged: false, paging: null }],
    },
    MODEL_FACTORIES,
  );
}

function eventsLabel(entryEvents: boolean): string {
  return entryEvents ? 'per-entry events logged' : 'no per-entry events';
}

/** The baseline loop: each request's PTR and VAL decoded and the 8 bytes stored, nothing checked. */
function writeRequests(mem: MachineMemory, requests: readonly MmuUpdateRequest[]): void {
  for (const r of requests) {
    const p = Number(r.ptr);
    const frame = Math.floor(p / 4096);
    const v = Number(r.val);
    const hi = Math.floor(v / 0x1_0000_0000);
    mem.writeEntry(frame, (p - frame * 4096) >>> 3, v - hi * 0x1_0000_0000, hi);
  }
}

/** Validated L1 updates per second, and the plain-write loop over the same requests. */
export function benchMmuUpdate(entryEvents: boolean): BenchResult[] {
  const machine = pvMachine(64n * MIB);
  setPvEntryEvents(machine, entryEvents);
  const d = machine.domains[0];
  const model = d.model as PvModel;
  const v = d.vcpus[0];
  const l1 = d.pfnToMfn(0);
  model.mmuext(v, 'pin_l1_table', BigInt(l1));
  // Two batches: entry i maps data frame A(i), then B(i), both writable, so every request of a
  // batch takes a general and a WRITABLE type reference on its new frame and drops the old one's.
  const batch = (base: number): MmuUpdateRequest[] =>
    Array.from({ length: BATCH }, (_, i) => ({
      ptr: (BigInt(l1) << 12n) | BigInt(i * 8),
      val: (BigInt(d.pfnToMfn(base + i)) << 12n) | 0x7n,
    }));
  const batches = [batch(1), batch(1 + BATCH)];
  // The plain loop stores the same values at the same indexes of a data frame (storing them into
  // the pinned L1 would leave its counts behind its entries).
  const scratch = BigInt(d.pfnToMfn(1 + 2 * BATCH)) << 12n;
  const plainBatches = batches.map((b) => b.map((r) => ({ ptr: scratch | (r.ptr & 0xfffn), val: r.val })));
  let round = 0;
  let plainRound = 0;
  const validated = (): void => {
    model.mmuUpdate(v, batches[round++ & 1], null);
    if (v.state.rc !== 0n || v.state.done !== BigInt(BATCH)) throw new Error('benchmark mmu_update failed');
    // A run keeps its log; the benchmark drops it now and then so that memory stays flat.
    if ((round & 31) === 0) machine.log.truncate(0);
  };
  const plain = (): void => {
    writeRequests(machine.memory, plainBatches[plainRound++ & 1]);
  };
  // The two loops alternate in slices of 16 batches, so that both see the same machine load.
  const slice = (body: () => void): number => {
    const t0 = performance.now();
    for (let k = 0; k < 16; k++) body();
    return performance.now() - t0;
  };
  for (let k = 0; k < 20; k++) {
    // warm up both paths
    slice(validated);
    slice(plain);
  }
  let validatedMs = 0;
  let plainMs = 0;
  let slices = 0;
  const start = performance.now();
  while (performance.now() - start < 2000) {
    validatedMs += slice(validated);
    plainMs += slice(plain);
    slices++;
  }
  const requests = slices * 16 * BATCH;
  const perSecond = requests / (validatedMs / 1000);
  const plainPerSecond = requests / (plainMs / 1000);
  const label = eventsLabel(entryEvents);
  return [
    {
      name: `validated mmu_update L1 requests/s, full path (${label})`,
      value: perSecond,
      unit: 'req/s',
      target: '≥ 2,000,000 req/s',
    },
    {
      name: `time per validated mmu_update L1 request (${label})`,
      value: 1e9 / perSecond,
      unit: 'ns',
      baseline: { name: 'the same requests decoded and stored with no checks', value: 1e9 / plainPerSecond },
      target: '≤ 5× the plain loop',
    },
  ];
}

/**
 * Pins an L4 whose tables map 4 GiB with 4 KiB pages (2048 L1s, 1M entries) in a fresh machine
 * (`cold`: the first touch of the 1M data frames' counts also builds their frame-table chunks from
 * the machine layout), then unpins it — every table is devalidated — and pins it again (`warm`:
 * the same 1M entries validated again). Returns both times in ms.
 */
export function timePinL4(entryEvents: boolean, writable: boolean): { cold: number; warm: number } {
  const machine = pvMachine(4096n * MIB + 16n * MIB);
  setPvEntryEvents(machine, entryEvents);
  const d = machine.domains[0];
  const mem = machine.memory;
  const pages = 1 << 20;
  const l1s = pages / 512;
  const tableBase = pages; // the tables' pfns follow the data pages
  const l4 = d.pfnToMfn(tableBase);
  const l3 = d.pfnToMfn(tableBase + 1);
  const flags = writable ? 0x7 : 0x5;
  const entry = (m: number, f: number): [number, number] => [
    ((m % 0x100000) * 4096 + f) >>> 0,
    Math.floor(m / 0x100000),
  ];
  for (let t = 0; t < l1s; t++) {
    const m = d.pfnToMfn(tableBase + 8 + t);
    for (let i = 0; i < 512; i++) mem.writeEntry(m, i, ...entry(d.pfnToMfn(t * 512 + i), flags));
  }
  for (let g = 0; g < 4; g++) {
    const l2 = d.pfnToMfn(tableBase + 2 + g);
    for (let i = 0; i < 512; i++)
      mem.writeEntry(l2, i, ...entry(d.pfnToMfn(tableBase + 8 + g * 512 + i), 0x7));
    mem.writeEntry(l3, g, ...entry(l2, 0x7));
  }
  mem.writeEntry(l4, 0, ...entry(l3, 0x7));
  const model = d.model as PvModel;
  const v = d.vcpus[0];
  const pin = (): number => {
    const t0 = performance.now();
    model.mmuext(v, 'pin_l4_table', BigInt(l4));
    const t1 = performance.now();
    if (v.state.rc !== 0n) throw new Error('benchmark pin failed');
    return t1 - t0;
  };
  const cold = pin();
  machine.log.truncate(0);
  model.mmuext(v, 'unpin_table', BigInt(l4));
  if (v.state.rc !== 0n || machine.frameTable.typeCount(d.pfnToMfn(tableBase + 8)) !== 0)
    throw new Error('benchmark unpin failed');
  machine.log.truncate(0);
  return { cold, warm: pin() };
}

function benchPinL4(entryEvents: boolean, writable: boolean): BenchResult[] {
  timePinL4(entryEvents, writable); // the first run compiles the validation loop
  const a = timePinL4(entryEvents, writable);
  const b = timePinL4(entryEvents, writable);
  const what = `pin_l4_table of an L4 mapping 4 GiB of ${writable ? 'writable' : 'read-only'} 4K pages, 1M L1 entries validated`;
  const label = eventsLabel(entryEvents);
  return [
    {
      name: `${what}, frame table warm (re-pin after unpin; ${label}; best of 2)`,
      value: Math.min(a.warm, b.warm),
      unit: 'ms',
      target: '≤ 100 ms',
    },
    {
      name: `${what}, first touch of the frames (fresh machine; ${label}; best of 2)`,
      value: Math.min(a.cold, b.cold),
      unit: 'ms',
    },
  ];
}

export function runPvBench(): BenchResult[] {
  return [
    ...benchMmuUpdate(true),
    ...benchMmuUpdate(false),
    ...benchPinL4(true, false),
    ...benchPinL4(false, false),
    ...benchPinL4(true, true),
    ...benchPinL4(false, true),
  ];
}
