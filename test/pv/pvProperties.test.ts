/**
 * Property tests of the PV memory manager (xen-semantics.md R1.3, §12): random sequences of
 * hypercalls, guest writes (ptwr), pins, unpins and base-pointer switches across two PV domains
 * (one of them a control domain with two vCPUs) and an HVM domain used as a foreign target.
 * After every operation the frame audit must find nothing, and every refused operation must leave
 * the whole frame table (every frame, every field), the M2P, machine memory and every base pointer
 * exactly as before, up to the residue §12 allows a failed validation: a frame whose type count is 0
 * before and after may have another type and `validated` bit (R2.5), and accepted entries may read
 * back adjusted (R2.5a).
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import type { MmuextOp } from '../../engine/language/host';
import { Machine } from '../../engine/machine/machine';
import type { Domain } from '../../engine/machine/domain';
import { MODEL_FACTORIES } from '../../engine/machine/modelFactories';
import type { PvModel } from '../../engine/pv/pvModel';
import { auditFrames } from '../../engine/pv/frameAudit';
import { existingPvContext } from '../../engine/pv/pvContext';
import { refusalDiff, takePicture } from './worldPicture';

const POOL = 10;
const MIB = 1024n * 1024n;
const FLAG_SETS = [0x1, 0x3, 0x3, 0x7, 0x1, 0x0, 0x83, 0x9, 0x103, 0x23];
const EXT_OPS: MmuextOp[] = [
  'pin_l1_table',
  'pin_l2_table',
  'pin_l3_table',
  'pin_l4_table',
  'unpin_table',
  'unpin_table',
  'new_baseptr',
  'new_user_baseptr',
  'tlb_flush_local',
  'invlpg_all',
];
const INDEXES = [0, 0, 1, 2, 3, 256, 258, 511];

interface Req {
  frame: number;
  index: number;
  cmd: number;
  target: number;
  flags: number;
}
type Op =
  | { k: 'mmu'; who: number; reqs: Req[]; foreign: number | null }
  | { k: 'ext'; who: number; op: number; frame: number }
  | { k: 'uvm'; who: number; page: number; target: number; flags: number; uvmf: number }
  | { k: 'write'; who: number; page: number; index: number; target: number; flags: number; size: number }
  | { k: 'read'; who: number; page: number }
  | { k: 'cr3'; who: number; frame: number }
  | { k: 'mode'; who: number; user: boolean };

const who = fc.integer({ min: 0, max: 2 }); // a.0, a.1, b.0
const frame = fc.integer({ min: 0, max: POOL - 1 });
const target = fc.integer({ min: 0, max: POOL + 2 });
const flags = fc.constantFrom(...FLAG_SETS);
const req = fc.record({
  frame,
  index: fc.constantFrom(...INDEXES),
  cmd: fc.constantFrom(0, 0, 0, 2, 3, 1, 5),
  target,
  flags,
});
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      k: fc.constant('mmu' as const),
      who,
      reqs: fc.array(req, { minLength: 1, maxLength: 3 }),
      foreign: fc.constantFrom(null, null, null, 0, 1, 2),
    }),
    weight: 8,
  },
  {
    arbitrary: fc.record({
      k: fc.constant('ext' as const),
      who,
      op: fc.integer({ min: 0, max: EXT_OPS.length - 1 }),
      frame,
    }),
    weight: 6,
  },
  {
    arbitrary: fc.record({
      k: fc.constant('uvm' as const),
      who,
      page: frame,
      target,
      flags,
      uvmf: fc.constantFrom(0, 1, 2, 5, 6),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      k: fc.constant('write' as const),
      who,
      page: frame,
      index: fc.integer({ min: 0, max: 3 }),
      target,
      flags,
      size: fc.constantFrom(8, 8, 1, 4),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ k: fc.constant('read' as const), who, page: frame }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('cr3' as const), who, frame }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('mode' as const), who, user: fc.boolean() }), weight: 1 },
);

function makeMachine(): Machine {
  return new Machine(
    {
      poolBytes: null,
      domains: [
        { name: 'a', id: 1, kind: 'pv', memory: MIB, vcpus: 2, privileged: true, paging: null },
        { name: 'b', id: 2, kind: 'pv', memory: MIB, vcpus: 1, privileged: false, paging: null },
        { name: 'h', id: 3, kind: 'hvm', memory: MIB, vcpus: 1, privileged: false, paging: 'hap' },
      ],
    },
    MODEL_FACTORIES,
  );
}

interface World {
  machine: Machine;
  a: Domain;
  b: Domain;
  h: Domain;
}

function va(page: number, index = 0): bigint {
  return BigInt(page) * 4096n + BigInt(index) * 8n;
}

/** The machine frame an op's target number names, seen from domain `d`. */
function targetMfn(w: World, d: Domain, t: number): number {
  if (t < POOL) return d.pfnToMfn(t);
  if (t === POOL) return (d === w.a ? w.b : w.a).pfnToMfn(1);
  if (t === POOL + 1) return w.h.pfnToMfn(2);
  return w.machine.frameTable.frameCount + 5;
}

function entry(mfn: number, f: number): bigint {
  return (BigInt(mfn) << 12n) | BigInt(f);
}

/** How often each interesting outcome happened over the whole run (the test checks they all did). */
const seen = new Map<string, number>();
function tally(key: string): void {
  seen.set(key, (seen.get(key) ?? 0) + 1);
}

function runOps(ops: Op[]): void {
  const machine = makeMachine();
  const [a, b, h] = machine.domains;
  const w: World = { machine, a, b, h };
  const ctx = existingPvContext(machine)!;
  // Start from a loaded address space in each PV domain: pfn 0 → 1 → 2 → 3 at index 0, the L1
  // (pfn 3) mapping pool page i at index i — read-only below 4, so page 3 is the L1 itself.
  for (const d of [a, b]) {
    const m = (p: number): bigint => BigInt(d.pfnToMfn(p)) << 12n;
    const reqs = [
      { ptr: m(0), val: m(1) | 3n },
      { ptr: m(1), val: m(2) | 3n },
      { ptr: m(2), val: m(3) | 3n },
      ...Array.from({ length: POOL }, (_, i) => ({
        ptr: m(3) + BigInt(i * 8),
        val: m(i) | (i < 4 ? 1n : 3n),
      })),
    ];
    const model = d.model as PvModel;
    model.mmuUpdate(d.vcpus[0], reqs, null);
    model.mmuext(d.vcpus[0], 'new_baseptr', BigInt(d.pfnToMfn(0)));
    expect(d.vcpus[0].state.rc).toBe(0n);
  }
  for (let n = 0; n < ops.length; n++) {
    const o = ops[n];
    const d = o.who === 2 ? b : a;
    const v = d.vcpus[o.who === 1 ? 1 : 0];
    const model = d.model as PvModel;
    const before = takePicture(machine);
    const lostBefore = ctx.lost.size;
    // A tear-down left pending by a failed mov cr3 (R8.1a) ends at this vCPU's next hypercall.
    const pendingBefore = ctx.vcpusOf(d.id)[v.index].oldGuestTable >= 0;
    let refused = false;
    switch (o.k) {
      case 'mmu': {
        const requests = o.reqs.map((r) => ({
          ptr: (BigInt(d.pfnToMfn(r.frame)) << 12n) + BigInt(r.index * 8 + r.cmd),
          val: r.cmd === 1 ? BigInt(r.target) : entry(targetMfn(w, d, r.target), r.flags),
        }));
        const foreign = o.foreign === null ? null : [a, b, h][o.foreign];
        model.mmuUpdate(v, requests, foreign);
        refused = v.state.rc !== 0n && v.state.done === 0n;
        break;
      }
      case 'ext':
        model.mmuext(v, EXT_OPS[o.op], BigInt(d.pfnToMfn(o.frame)));
        refused = v.state.rc !== 0n;
        break;
      case 'uvm':
        model.updateVaMapping(v, va(o.page), entry(targetMfn(w, d, o.target), o.flags), BigInt(o.uvmf));
        refused = v.state.rc !== 0n && v.state.rc !== (1n << 64n) - 14n;
        break;
      case 'write': {
        const value = entry(targetMfn(w, d, o.target), o.flags);
        model.write(v, o.size as 1 | 4 | 8, va(o.page, o.index), value);
        break;
      }
      case 'read':
        model.read(v, 8, va(o.page));
        break;
      case 'cr3':
        model.movCr(v, 3, BigInt(d.pfnToMfn(o.frame)) << 12n);
        refused = v.state.fault !== 0n && ctx.vcpusOf(d.id)[v.index].oldGuestTable < 0;
        break;
      case 'mode':
        model.setMode(v, o.user ? 'user' : 'kernel');
        break;
    }
    const audit = auditFrames(machine);
    if (audit.count > 0) {
      throw new Error(`op ${n} ${JSON.stringify(o)}: ${audit.violations.map((x) => x.message).join('; ')}`);
    }
    if (refused && !pendingBefore && ctx.lost.size === lostBefore) {
      const diff = refusalDiff(machine, before, takePicture(machine));
      if (diff !== null) throw new Error(`refused op ${n} ${JSON.stringify(o)}: ${diff}`);
    }
    if (refused) tally(`refused ${o.k}`);
  }
  for (const e of machine.log.all()) {
    if (e.class === 'validate') tally(e.ok ? `validate ${e.type}` : 'validate failed');
    else if (e.class === 'ptwr') tally(e.ok ? 'ptwr applied' : 'ptwr refused');
    else if (e.class === 'partial_validation') tally(`partial ${e.state}`);
    else if (e.class === 'tlb_flush') tally(`flush ${e.cause}`);
    else if (e.class === 'baseptr') tally('baseptr');
    else if (e.class === 'pin') tally('pin');
  }
}

describe('PV properties', () => {
  it('random operations keep every invariant and refused operations change nothing (10^5 operations)', () => {
    let total = 0;
    fc.assert(
      fc.property(fc.array(op, { minLength: 400, maxLength: 400 }), (ops) => {
        total += ops.length;
        runOps(ops);
      }),
      { numRuns: 250, seed: 20261125, endOnFailure: true },
    );
    expect(total).toBeGreaterThanOrEqual(100_000);
    for (const key of [
      'validate L1',
      'validate L2',
      'validate L3',
      'validate L4',
      'validate failed',
      'ptwr applied',
      'ptwr refused',
      'partial pending',
      'partial finished',
      'flush type_change',
      'flush upper_update',
      'baseptr',
      'pin',
      'refused mmu',
      'refused ext',
      'refused cr3',
      'refused uvm',
    ]) {
      expect(seen.get(key) ?? 0, key).toBeGreaterThan(0);
    }
  }, 300_000);
});
