/**
 * Every error code xen-semantics.md §11 names, per operation that produces it, and every refusal
 * and fault the rules give. Each case is a guest program whose last statement before `@op` sets up
 * the state; the harness pictures the whole machine just before and just after the one statement
 * under test and checks:
 * - `rc` (and `done` for `mmu_update`), or the fault delivered;
 * - the counts of the frames involved, before and after (ref_count, type_count, type, pinned,
 *   validated), against the values the rules give;
 * - that nothing else changed anywhere (every frame of the frame table, the M2P, memory, base
 *   pointers), except the residue §12 allows where the case says so;
 * - the `refusal` (or `fault`) event, with the rule id and the Xen function that decided.
 * The frame audit (R1.3) runs after every step.
 */
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../engine/events/eventTypes';
import { PAGE_TYPE_NAMES } from '../../engine/machine/frameTable';
import { auditFrames } from '../../engine/pv/frameAudit';
import { loadPv } from './pvHarness';
import type { WorldPicture } from './worldPicture';
import { frameIn, refusalDiff, takePicture } from './worldPicture';

/** [ref_count, type_count, type, pinned, validated] */
type Counts = [number, number, string, 0 | 1, 0 | 1];

interface Case {
  /** Rule ids the case exercises (the first is the one the refusal event must name). */
  rule: string;
  rc?: string;
  done?: number;
  /** A fault instead of an `rc`: `GP`, or `PF` with its error code, and the rule the fault names. */
  fault?: { kind: 'GP'; rule: string } | { kind: 'PF'; code: number; rule: string };
  setup: string;
  op: string;
  /** Guest expressions naming frames → their counts before the operation. */
  before: Record<string, Counts>;
  /** Counts after, where they differ from `before` (residue §12 allows). */
  after?: Record<string, Counts>;
  /** The statement may leave §12's residue (type with count 0, adjusted entries). */
  residue?: boolean;
  /** Text the explanation's chain must contain; `null`: the call never reaches Xen, no refusal. */
  xen: string | null;
  /** The statement's own effects stay although it reports an error (R7's -EFAULT). */
  applied?: boolean;
  vcpu?: string;
}

const DOMAINS = `
domain a pv memory=16M vcpus=2 privileged
domain b pv memory=16M
domain h hvm memory=16M paging=hap
`;

const PROCS = `
proc frame_of(d)
    let m = 0
    while owner(m) != d
        m = m + 1
    end
    return m
end
`;

const ERRNO: Record<string, number> = { EPERM: 1, ESRCH: 3, EFAULT: 14, EBUSY: 16, EINVAL: 22, ENOSYS: 38 };

function rcOf(name: string): bigint {
  return (1n << 64n) - BigInt(ERRNO[name.replace('-', '')]);
}

function countsOf(r: {
  refCount: number;
  typeCount: number;
  type: number;
  pinned: boolean;
  validated: boolean;
}): Counts {
  return [r.refCount, r.typeCount, PAGE_TYPE_NAMES[r.type], r.pinned ? 1 : 0, r.validated ? 1 : 0];
}

function check(c: Case): void {
  const names = Object.keys(c.before);
  const who = c.vcpu ?? 'a';
  const body = [c.setup, `print "@op"`, c.op, `print "@after"`, ...names.map((n) => `print "@f", ${n}`)].join(
    '\n',
  );
  const src = `${DOMAINS}${PROCS}\nvcpu ${who}\n${body}\nend\n`;
  const engine = loadPv(src);
  const machine = engine.machine;
  const lastOut = (): string => engine.output.filter((o) => o.stream === 'stdout').at(-1)?.text ?? '';
  let before: WorldPicture | null = null;
  let after: WorldPicture | null = null;
  let opStep = -1;
  for (let n = 0; n < 200_000 && !engine.finished; n++) {
    const o = engine.step();
    const audit = auditFrames(machine);
    if (audit.count > 0) throw new Error(`audit after line ${o.line}: ${audit.violations[0].message}`);
    if (before !== null && after === null) {
      after = takePicture(machine);
      opStep = o.step;
    }
    if (before === null && lastOut() === '@op') before = takePicture(machine);
  }
  expect(engine.output.filter((o) => o.stream === 'stderr').map((o) => o.text)).toEqual([]);
  expect(before).not.toBeNull();
  expect(after).not.toBeNull();
  const mfns = engine.output
    .filter((o) => o.stream === 'stdout' && o.text.startsWith('@f '))
    .map((o) => Number(BigInt(o.text.slice(3))));
  expect(mfns.length).toBe(names.length);

  const [dn, vi] = who.split('.');
  const vcpu = machine.domains.find((d) => d.name === dn)!.vcpus[Number(vi ?? 0)];
  const stepEvents = engine.events.filter((e) => e.step === opStep);
  if (c.rc !== undefined) {
    expect(vcpu.state.rc, 'rc').toBe(rcOf(c.rc));
    if (c.done !== undefined) expect(vcpu.state.done, 'done').toBe(BigInt(c.done));
  }
  if (c.fault !== undefined) {
    const fault = stepEvents.find((e) => e.class === 'fault') as
      (EngineEvent & { fault: string; fault_code: bigint; rule: string }) | undefined;
    expect(fault?.fault).toBe(c.fault.kind);
    expect(fault?.rule, 'the fault event names the rule that raised it').toBe(c.fault.rule);
    if (c.fault.kind === 'PF') expect(fault?.fault_code).toBe(BigInt(c.fault.code));
  }
  // The counts of the frames involved, before and after.
  names.forEach((name, i) => {
    expect(countsOf(frameIn(machine, before!, mfns[i])), `${name} before`).toEqual(c.before[name]);
    expect(countsOf(frameIn(machine, after!, mfns[i])), `${name} after`).toEqual(
      c.after?.[name] ?? c.before[name],
    );
  });
  // Nothing else changed.
  if (c.applied !== true) expect(refusalDiff(machine, before!, after!, c.residue !== true)).toBeNull();
  if (c.xen === null) {
    expect(stepEvents.filter((e) => e.class === 'refusal')).toEqual([]);
    return;
  }
  // The explanation names the rule and the Xen function that decided.
  const explained = stepEvents.find((e) => e.class === 'refusal' || e.class === 'fault') as
    (EngineEvent & { rule: string; xen_function?: string; explanation?: string }) | undefined;
  expect(explained, 'a refusal or fault event').toBeDefined();
  expect(explained!.rule).toBe(c.rule.split('/')[0]);
  if (process.env.SHOW_EXPLANATIONS) console.log(explained!.rule, explained!.explanation);
  expect(explained!.explanation ?? '').toContain(c.xen);
}

const L1_PINNED = `
    let l1 = alloc()
    let d = alloc()
    mmuext pin_l1_table, mfn(l1)`;

const CASES: Record<string, Case> = {
  // ---- mmu_update (§5) ----
  'mmu_update foreign= naming the caller: -ESRCH, done 0 (R5.1)': {
    rule: 'R5.1',
    rc: '-ESRCH',
    done: 0,
    setup: L1_PINNED,
    op: 'mmu_update pte_addr(mfn(l1), 0), mfn(d) << 12 | P | RW foreign=a',
    before: { 'mfn(l1)': [2, 1, 'L1', 1, 1], 'mfn(d)': [1, 0, 'NONE', 0, 0] },
    xen: 'get_pg_owner',
  },
  'mmu_update command 4-7: -ENOSYS at the failing request, earlier requests applied (R5.2, R5.1)': {
    rule: 'R5.2',
    rc: '-ENOSYS',
    done: 1,
    setup: L1_PINNED,
    op: 'mmu_update pte_addr(mfn(l1), 1), 0, pte_addr(mfn(l1), 0) | 5, mfn(d) << 12 | P',
    before: { 'mfn(l1)': [2, 1, 'L1', 1, 1], 'mfn(d)': [1, 0, 'NONE', 0, 0] },
    xen: 'do_mmu_update',
  },
  'mmu_update in mode user: -ENOSYS, never reaches Xen (language)': {
    rule: 'R5.1',
    rc: '-ENOSYS',
    setup: `${L1_PINNED}\n    mode user`,
    op: 'mmu_update pte_addr(mfn(l1), 0), mfn(d) << 12 | P',
    before: { 'mfn(l1)': [2, 1, 'L1', 1, 1], 'mfn(d)': [1, 0, 'NONE', 0, 0] },
    xen: null,
  },
  'mmu_update foreign= from a domain that is not a control domain: -EPERM, done 0 (R5.3)': {
    rule: 'R5.3',
    rc: '-EPERM',
    done: 0,
    vcpu: 'b',
    setup: L1_PINNED,
    op: 'mmu_update pte_addr(mfn(l1), 0), mfn(d) << 12 | P foreign=a',
    before: { 'mfn(l1)': [2, 1, 'L1', 1, 1], 'mfn(d)': [1, 0, 'NONE', 0, 0] },
    xen: 'xsm_mmu_update',
  },
  "mmu_update of an entry in another domain's frame: -EINVAL (R5.3)": {
    rule: 'R5.3',
    rc: '-EINVAL',
    done: 0,
    setup: `${L1_PINNED}\n    let other = mfn(0) - 0x1000
    expect owner(other) == domid(b)`,
    op: 'mmu_update pte_addr(other, 0), mfn(d) << 12 | P',
    before: { other: [1, 0, 'NONE', 0, 0], 'mfn(d)': [1, 0, 'NONE', 0, 0] },
    xen: 'get_page_from_gfn',
  },
  'mmu_update of an entry in a frame that does not exist: -EINVAL (R5.3, R1.4)': {
    rule: 'R5.3',
    rc: '-EINVAL',
    done: 0,
    setup: L1_PINNED,
    op: 'mmu_update pte_addr(1 << 30, 0), mfn(d) << 12 | P',
    before: { 'mfn(d)': [1, 0, 'NONE', 0, 0] },
    xen: 'get_page_from_gfn',
  },
  'mmu_update L1 entry with PWT, PCD or PAT: -EINVAL (R3.1, R5.4)': {
    rule: 'R3.1',
    rc: '-EINVAL',
    done: 0,
    setup: L1_PINNED,
    op: 'mmu_update pte_addr(mfn(l1), 0), mfn(d) << 12 | P | PS',
    before: { 'mfn(l1)': [2, 1, 'L1', 1, 1], 'mfn(d)': [1, 0, 'NONE', 0, 0] },
    xen: 'L1_DISALLOW_MASK forbids it — mod_l1_entry → get_page_from_l1e: -EINVAL',
  },
  'mmu_update L1 entry beyond the machine frame count: -EPERM (R3.3 step 2)': {
    rule: 'R3.3',
    rc: '-EPERM',
    done: 0,
    setup: L1_PINNED,
    op: 'mmu_update pte_addr(mfn(l1), 0), (1 << 30) << 12 | P',
    before: { 'mfn(l1)': [2, 1, 'L1', 1, 1] },
    xen: 'get_page_from_l1e',
  },
  'mmu_update L1 entry naming INVALID_MFN: -EINVAL (R3.3 step 2)': {
    rule: 'R3.3',
    rc: '-EINVAL',
    done: 0,
    setup: L1_PINNED,
    op: 'mmu_update pte_addr(mfn(l1), 0), 0xff_ffff_ffff << 12 | P',
    before: { 'mfn(l1)': [2, 1, 'L1', 1, 1] },
    xen: 'INVALID_MFN',
  },
  'mmu_update L1 entry naming a free frame: -EBUSY (R3.3 step 3, R2.1)': {
    rule: 'R3.3',
    rc: '-EBUSY',
    done: 0,
    setup: `${L1_PINNED}\n    let free = call frame_of(0)`,
    op: 'mmu_update pte_addr(mfn(l1), 0), free << 12 | P',
    before: { 'mfn(l1)': [2, 1, 'L1', 1, 1], free: [0, 0, 'NONE', 0, 0] },
    xen: 'get_page_from_l1e',
  },
  "mmu_update L1 entry naming another domain's frame without foreign=: -EBUSY (R3.3 step 3)": {
    rule: 'R3.3',
    rc: '-EBUSY',
    done: 0,
    setup: `${L1_PINNED}\n    let other = mfn(0) - 0x1000
    expect owner(other) == domid(b)`,
    op: 'mmu_update pte_addr(mfn(l1), 0), other << 12 | P',
    before: { 'mfn(l1)': [2, 1, 'L1', 1, 1], other: [1, 0, 'NONE', 0, 0] },
    xen: 'get_page_from_l1e',
  },
  'mmu_update writable L1 entry naming a page-table page: -EBUSY (R3.3 step 4, R14.3)': {
    rule: 'R3.3',
    rc: '-EBUSY',
    done: 0,
    setup: `${L1_PINNED}\n    let l2 = alloc()\n    mmuext pin_l2_table, mfn(l2)`,
    op: 'mmu_update pte_addr(mfn(l1), 1), mfn(l2) << 12 | P | RW',
    before: { 'mfn(l1)': [2, 1, 'L1', 1, 1], 'mfn(l2)': [2, 1, 'L2', 1, 1] },
    xen: 'get_page_from_l1e → get_page_type',
  },
  'mmu_update L2 entry with PS, L3 with PS, L4 with G: -EINVAL (R3.1, R5.5)': {
    rule: 'R3.1',
    rc: '-EINVAL',
    done: 1,
    setup: `
    let l2 = alloc()
    let l3 = alloc()
    let l4 = alloc()
    mmuext pin_l2_table, mfn(l2)
    mmuext pin_l3_table, mfn(l3)
    mmuext pin_l4_table, mfn(l4)
    mmu_update pte_addr(mfn(l3), 0), mfn(l2) << 12 | P | PS
    expect rc == -EINVAL
    mmu_update pte_addr(mfn(l4), 0), mfn(l3) << 12 | P | G
    expect rc == -EINVAL
    let l1 = alloc()`,
    op: 'mmu_update pte_addr(mfn(l2), 1), 0, pte_addr(mfn(l2), 0), mfn(l1) << 12 | P | PS',
    before: { 'mfn(l2)': [2, 1, 'L2', 1, 1], 'mfn(l1)': [1, 0, 'NONE', 0, 0] },
    xen: 'L2_DISALLOW_MASK forbids it — mod_l2_entry → get_page_from_l2e: -EINVAL',
  },
  'mmu_update of an L4 entry in the Xen slots 256-271: -EINVAL (R3.7)': {
    rule: 'R3.7',
    rc: '-EINVAL',
    done: 0,
    setup: `
    let l4 = alloc()
    mmuext pin_l4_table, mfn(l4)`,
    op: 'mmu_update pte_addr(mfn(l4), 260), 0',
    before: { 'mfn(l4)': [2, 1, 'L4', 1, 1] },
    xen: 'mod_l4_entry',
  },
  "mmu_update L2 entry naming another domain's frame: -EINVAL (R3.4, R2.6)": {
    rule: 'R2.6',
    rc: '-EINVAL',
    done: 0,
    setup: `
    let l2 = alloc()
    mmuext pin_l2_table, mfn(l2)
    let other = mfn(0) - 0x1000
    expect owner(other) == domid(b)`,
    op: 'mmu_update pte_addr(mfn(l2), 0), other << 12 | P',
    before: { 'mfn(l2)': [2, 1, 'L2', 1, 1], other: [1, 0, 'NONE', 0, 0] },
    xen: 'get_page_from_l2e',
  },
  'mmu_update L2 entry naming a frame in use as WRITABLE: -EINVAL (R3.4, R2.3 step 2)': {
    rule: 'R2.3',
    rc: '-EINVAL',
    done: 0,
    setup: `
    let l2 = alloc()
    let l1 = alloc()
    let d = alloc()
    mmuext pin_l2_table, mfn(l2)
    mmuext pin_l1_table, mfn(l1)
    mmu_update pte_addr(mfn(l1), 0), mfn(d) << 12 | P | RW`,
    op: 'mmu_update pte_addr(mfn(l2), 0), mfn(d) << 12 | P',
    before: { 'mfn(l2)': [2, 1, 'L2', 1, 1], 'mfn(d)': [2, 1, 'WRITABLE', 0, 1] },
    xen: 'get_page_type',
  },
  'mmu_update L2 entry naming an L1 that fails validation: its -EBUSY as it is, the L1 ends NONE (R3.4, R2.5)':
    {
      rule: 'R3.3',
      rc: '-EBUSY',
      done: 0,
      setup: `
    let l2 = alloc()
    let l1 = alloc()
    let d = alloc()
    mmuext pin_l2_table, mfn(l2)
    mmu_update pte_addr(mfn(l1), 0), mfn(d) << 12 | P, pte_addr(mfn(l1), 1), mfn(l2) << 12 | P | RW`,
      op: 'mmu_update pte_addr(mfn(l2), 0), mfn(l1) << 12 | P',
      before: {
        'mfn(l2)': [2, 1, 'L2', 1, 1],
        'mfn(l1)': [1, 0, 'WRITABLE', 0, 1],
        'mfn(d)': [1, 0, 'NONE', 0, 0],
      },
      after: { 'mfn(l1)': [1, 0, 'NONE', 0, 0] },
      residue: true,
      xen: 'get_page_from_l2e → promote_l1_table → get_page_from_l1e → get_page_type',
    },
  'mmu_update writable linear L4 entry: -EINVAL (R3.6 step 2)': {
    rule: 'R3.6',
    rc: '-EINVAL',
    done: 0,
    setup: `
    let l4 = alloc()
    mmuext pin_l4_table, mfn(l4)`,
    op: 'mmu_update pte_addr(mfn(l4), 5), mfn(l4) << 12 | P | RW',
    before: { 'mfn(l4)': [2, 1, 'L4', 1, 1] },
    xen: 'get_l4_linear_pagetable',
  },
  'mmu_update linear L4 entry naming an L4 that holds linear entries itself: -EINVAL (R3.6 step 4)': {
    rule: 'R3.6',
    rc: '-EINVAL',
    done: 0,
    setup: `
    let l4 = alloc()
    let m4 = alloc()
    let x4 = alloc()
    mmuext pin_l4_table, mfn(l4)
    mmuext pin_l4_table, mfn(m4)
    mmuext pin_l4_table, mfn(x4)
    mmu_update pte_addr(mfn(m4), 1), mfn(x4) << 12 | P
    expect rc == 0`,
    op: 'mmu_update pte_addr(mfn(l4), 7), mfn(m4) << 12 | P',
    before: { 'mfn(l4)': [2, 1, 'L4', 1, 1], 'mfn(m4)': [2, 1, 'L4', 1, 1], 'mfn(x4)': [3, 2, 'L4', 1, 1] },
    xen: 'get_l4_linear_pagetable',
  },
  'mmu_update linear L4 entry in an L4 that is itself the target of a linear entry: -EINVAL (R3.6 step 4)': {
    rule: 'R3.6',
    rc: '-EINVAL',
    done: 0,
    setup: `
    let l4 = alloc()
    let m4 = alloc()
    let x4 = alloc()
    mmuext pin_l4_table, mfn(l4)
    mmuext pin_l4_table, mfn(m4)
    mmuext pin_l4_table, mfn(x4)
    mmu_update pte_addr(mfn(l4), 7), mfn(m4) << 12 | P
    expect rc == 0`,
    op: 'mmu_update pte_addr(mfn(m4), 1), mfn(x4) << 12 | P',
    before: { 'mfn(l4)': [2, 1, 'L4', 1, 1], 'mfn(m4)': [3, 2, 'L4', 1, 1], 'mfn(x4)': [2, 1, 'L4', 1, 1] },
    xen: 'get_l4_linear_pagetable',
  },
  'mmu_update of an L2 entry with foreign=: -EINVAL (R5.3 step 3)': {
    rule: 'R5.3',
    rc: '-EINVAL',
    done: 0,
    setup: `
    let l2 = alloc()
    let l1 = alloc()
    mmuext pin_l2_table, mfn(l2)
    let other = mfn(0) - 0x1000
    expect owner(other) == domid(b)`,
    op: 'mmu_update pte_addr(mfn(l2), 0), other << 12 | P foreign=b',
    before: { 'mfn(l2)': [2, 1, 'L2', 1, 1], other: [1, 0, 'NONE', 0, 0] },
    xen: 'do_mmu_update',
  },
  'MMU_MACHPHYS_UPDATE with foreign= an HVM domain: -EINVAL before the privilege check (R5.6 step 1)': {
    rule: 'R5.6',
    rc: '-EINVAL',
    done: 0,
    vcpu: 'b',
    setup: `
    let x = alloc()
    let hf = mfn(0) - 0x1000
    expect owner(hf) == domid(h)`,
    op: 'mmu_update hf << 12 | MMU_MACHPHYS_UPDATE, 7 foreign=h',
    before: { hf: [1, 0, 'NONE', 0, 0] },
    xen: 'do_mmu_update',
  },
  'MMU_MACHPHYS_UPDATE with foreign= a PV domain from a domain that is not a control domain: -EPERM (R5.6 step 2)':
    {
      rule: 'R5.6',
      rc: '-EPERM',
      done: 0,
      vcpu: 'b',
      setup: `
    let x = alloc()
    let af = mfn(0) + 0x1000
    expect owner(af) == domid(a)`,
      op: 'mmu_update af << 12 | MMU_MACHPHYS_UPDATE, 7 foreign=a',
      before: { af: [1, 0, 'NONE', 0, 0] },
      xen: 'xsm_mmu_update',
    },
  "MMU_MACHPHYS_UPDATE of another domain's frame: -EINVAL (R5.6 step 3)": {
    rule: 'R5.6',
    rc: '-EINVAL',
    done: 0,
    setup: `
    let x = alloc()
    let other = mfn(0) - 0x1000
    expect owner(other) == domid(b)`,
    op: 'mmu_update other << 12 | MMU_MACHPHYS_UPDATE, 7',
    before: { other: [1, 0, 'NONE', 0, 0] },
    xen: 'get_page_from_mfn',
  },
  'mmu_update foreign= an HVM domain naming a gfn it does not have: -EINVAL (R5.7)': {
    rule: 'R5.7',
    rc: '-EINVAL',
    done: 0,
    setup: L1_PINNED,
    op: 'mmu_update pte_addr(mfn(l1), 0), 0x100000 << 12 | P foreign=h',
    before: { 'mfn(l1)': [2, 1, 'L1', 1, 1] },
    xen: 'get_page_from_gfn',
  },

  // ---- mmuext (§6) ----
  "pin_l1_table of another domain's frame: -EINVAL (R6.1 step 1)": {
    rule: 'R6.1',
    rc: '-EINVAL',
    setup: `
    let x = alloc()
    let other = mfn(0) - 0x1000
    expect owner(other) == domid(b)`,
    op: 'mmuext pin_l1_table, other',
    before: { other: [1, 0, 'NONE', 0, 0] },
    xen: 'get_page_from_gfn',
  },
  'pin_l2_table of a frame pinned as L1: -EINVAL (R6.1 step 2, R2.3 step 2)': {
    rule: 'R2.3',
    rc: '-EINVAL',
    setup: L1_PINNED,
    op: 'mmuext pin_l2_table, mfn(l1)',
    before: { 'mfn(l1)': [2, 1, 'L1', 1, 1] },
    xen: 'get_page_type',
  },
  'pin_l1_table of an L1 whose entry 1 maps an L2 writable: -EBUSY, the L1 ends NONE (R6.1, R2.5, R2.5a)': {
    rule: 'R3.3',
    rc: '-EBUSY',
    setup: `
    let l1 = alloc()
    let d = alloc()
    let l2 = alloc()
    mmuext pin_l2_table, mfn(l2)
    mmu_update pte_addr(mfn(l1), 0), mfn(d) << 12 | P, pte_addr(mfn(l1), 1), mfn(l2) << 12 | P | RW`,
    op: 'mmuext pin_l1_table, mfn(l1)',
    before: {
      'mfn(l1)': [1, 0, 'WRITABLE', 0, 1],
      'mfn(d)': [1, 0, 'NONE', 0, 0],
      'mfn(l2)': [2, 1, 'L2', 1, 1],
    },
    after: { 'mfn(l1)': [1, 0, 'NONE', 0, 0] },
    residue: true,
    xen: 'promote_l1_table → get_page_from_l1e → get_page_type',
  },
  'pin_l1_table of an L1 with an entry beyond the machine: -EPERM (R6.1, R3.3)': {
    rule: 'R3.3',
    rc: '-EPERM',
    setup: `
    let l1 = alloc()
    mmu_update pte_addr(mfn(l1), 4), (1 << 30) << 12 | P`,
    op: 'mmuext pin_l1_table, mfn(l1)',
    before: { 'mfn(l1)': [1, 0, 'WRITABLE', 0, 1] },
    after: { 'mfn(l1)': [1, 0, 'NONE', 0, 0] },
    residue: true,
    xen: 'promote_l1_table → get_page_from_l1e',
  },
  'pin_l1_table of a frame already pinned: -EINVAL, both references given back (R6.1 step 3)': {
    rule: 'R6.1',
    rc: '-EINVAL',
    setup: L1_PINNED,
    op: 'mmuext pin_l1_table, mfn(l1)',
    before: { 'mfn(l1)': [2, 1, 'L1', 1, 1] },
    xen: 'do_mmuext_op',
  },
  "unpin_table of another domain's frame: -EINVAL (R6.2 step 1)": {
    rule: 'R6.2',
    rc: '-EINVAL',
    setup: `
    let x = alloc()
    let other = mfn(0) - 0x1000
    expect owner(other) == domid(b)`,
    op: 'mmuext unpin_table, other',
    before: { other: [1, 0, 'NONE', 0, 0] },
    xen: 'do_mmuext_op',
  },
  'unpin_table of a table that is not pinned: -EINVAL (R6.2 step 2)': {
    rule: 'R6.2',
    rc: '-EINVAL',
    setup: `
    let l2 = alloc()
    let l1 = alloc()
    mmuext pin_l2_table, mfn(l2)
    mmu_update pte_addr(mfn(l2), 0), mfn(l1) << 12 | P`,
    op: 'mmuext unpin_table, mfn(l1)',
    before: { 'mfn(l1)': [2, 1, 'L1', 0, 1], 'mfn(l2)': [2, 1, 'L2', 1, 1] },
    xen: 'do_mmuext_op',
  },
  "new_baseptr of another domain's frame: -EINVAL (R6.3 step 2)": {
    rule: 'R2.6',
    rc: '-EINVAL',
    setup: `
    let x = alloc()
    let other = mfn(0) - 0x1000
    expect owner(other) == domid(b)`,
    op: 'mmuext new_baseptr, other',
    before: { other: [1, 0, 'NONE', 0, 0] },
    xen: 'get_page_and_type_from_mfn',
  },
  'new_baseptr of a frame pinned as L3: -EINVAL (R6.3 step 2, R2.3)': {
    rule: 'R2.3',
    rc: '-EINVAL',
    setup: `
    let l3 = alloc()
    mmuext pin_l3_table, mfn(l3)`,
    op: 'mmuext new_baseptr, mfn(l3)',
    before: { 'mfn(l3)': [2, 1, 'L3', 1, 1] },
    xen: 'get_page_type',
  },
  'new_baseptr of an L4 that fails validation at slot 0: its -EINVAL, the L4 ends NONE (R6.3, R2.5)': {
    rule: 'R3.1',
    rc: '-EINVAL',
    setup: `
    let l4 = alloc()
    let l3 = alloc()
    mmu_update pte_addr(mfn(l4), 0), mfn(l3) << 12 | P | PS`,
    op: 'mmuext new_baseptr, mfn(l4)',
    before: { 'mfn(l4)': [1, 0, 'WRITABLE', 0, 1], 'mfn(l3)': [1, 0, 'NONE', 0, 0] },
    after: { 'mfn(l4)': [1, 0, 'NONE', 0, 0] },
    residue: true,
    xen: 'promote_l4_table',
  },
  'new_user_baseptr of a frame in use as L1: -EINVAL (R6.4 step 2)': {
    rule: 'R2.3',
    rc: '-EINVAL',
    setup: L1_PINNED,
    op: 'mmuext new_user_baseptr, mfn(l1)',
    before: { 'mfn(l1)': [2, 1, 'L1', 1, 1] },
    xen: 'get_page_type',
  },
  'new_user_baseptr of a frame that does not exist: -EINVAL (R6.4 step 2, R2.1)': {
    rule: 'R2.6',
    rc: '-EINVAL',
    setup: L1_PINNED,
    op: 'mmuext new_user_baseptr, 1 << 30',
    before: { 'mfn(l1)': [2, 1, 'L1', 1, 1] },
    xen: 'get_page',
  },
  'mmuext in mode user: -ENOSYS (language)': {
    rule: 'R5.1',
    rc: '-ENOSYS',
    setup: `
    let l1 = alloc()
    mode user`,
    op: 'mmuext pin_l1_table, mfn(l1)',
    before: { 'mfn(l1)': [1, 0, 'NONE', 0, 0] },
    xen: null,
  },

  // ---- update_va_mapping (§7) ----
  'update_va_mapping of a non-canonical VA: -EINVAL (R7 step 1)': {
    rule: 'R7',
    rc: '-EINVAL',
    setup: L1_PINNED,
    op: 'update_va_mapping 0x0000_8000_0000_0000, mfn(d) << 12 | P, UVMF_NONE',
    before: { 'mfn(d)': [1, 0, 'NONE', 0, 0] },
    xen: '__addr_ok',
  },
  'update_va_mapping with no kernel base pointer: -EINVAL (R7 step 2)': {
    rule: 'R7',
    rc: '-EINVAL',
    setup: L1_PINNED,
    op: 'update_va_mapping 0x1000, mfn(d) << 12 | P, UVMF_NONE',
    before: { 'mfn(l1)': [2, 1, 'L1', 1, 1], 'mfn(d)': [1, 0, 'NONE', 0, 0] },
    xen: 'do_update_va_mapping',
  },
  'update_va_mapping where the L2 entry is a linear map of an L2: -EINVAL (R7 step 3)': {
    rule: 'R7',
    rc: '-EINVAL',
    setup: `
    let l4 = alloc()
    let l3 = alloc()
    let l2 = alloc()
    let d = alloc()
    mmu_update pte_addr(mfn(l4), 0), mfn(l3) << 12 | P | RW, pte_addr(mfn(l3), 0), mfn(l2) << 12 | P | RW
    mmu_update pte_addr(mfn(l2), 1), mfn(l2) << 12 | P
    mmuext new_baseptr, mfn(l4)
    expect rc == 0`,
    op: 'update_va_mapping va(0, 0, 1, 0), mfn(d) << 12 | P, UVMF_NONE',
    before: { 'mfn(l2)': [2, 1, 'L2', 0, 1], 'mfn(d)': [1, 0, 'NONE', 0, 0] },
    xen: 'do_update_va_mapping',
  },
  'update_va_mapping mapping a page table writable: -EBUSY from mod_l1_entry (R7 step 4, R3.3)': {
    rule: 'R3.3',
    rc: '-EBUSY',
    setup: `
    let l4 = alloc()
    let l3 = alloc()
    let l2 = alloc()
    let l1 = alloc()
    mmu_update pte_addr(mfn(l4), 0), mfn(l3) << 12 | P | RW, pte_addr(mfn(l3), 0), mfn(l2) << 12 | P | RW, pte_addr(mfn(l2), 0), mfn(l1) << 12 | P | RW
    mmuext new_baseptr, mfn(l4)
    expect rc == 0`,
    op: 'update_va_mapping va(0, 0, 0, 5), mfn(l2) << 12 | P | RW, UVMF_INVLPG',
    before: { 'mfn(l2)': [2, 1, 'L2', 0, 1], 'mfn(l1)': [2, 1, 'L1', 0, 1] },
    xen: '— get_page_from_l1e → get_page_type: -EBUSY',
  },
  'update_va_mapping with an unreadable UVMF_MULTI bitmap: -EFAULT, the entry update stays (R7 step 5)': {
    rule: 'R7',
    rc: '-EFAULT',
    setup: `
    let l4 = alloc()
    let l3 = alloc()
    let l2 = alloc()
    let l1 = alloc()
    let d = alloc()
    mmu_update pte_addr(mfn(l4), 0), mfn(l3) << 12 | P | RW, pte_addr(mfn(l3), 0), mfn(l2) << 12 | P | RW, pte_addr(mfn(l2), 0), mfn(l1) << 12 | P | RW
    mmuext new_baseptr, mfn(l4)
    expect rc == 0`,
    op: 'update_va_mapping va(0, 0, 0, 5), mfn(d) << 12 | P | RW, UVMF_TLB_FLUSH | 0x7000',
    before: { 'mfn(l1)': [2, 1, 'L1', 0, 1], 'mfn(d)': [1, 0, 'NONE', 0, 0] },
    after: { 'mfn(d)': [2, 1, 'WRITABLE', 0, 1] },
    applied: true,
    xen: 'do_update_va_mapping',
  },

  // ---- mov cr3 (§8) ----
  'mov cr3 in mode user: #GP (R8.1 step 1)': {
    rule: 'R8.1',
    fault: { kind: 'GP', rule: 'R8.1' },
    setup: `
    let l4 = alloc()
    mode user`,
    op: 'mov cr3, mfn(l4) << 12',
    before: { 'mfn(l4)': [1, 0, 'NONE', 0, 0] },
    xen: '',
  },
  "mov cr3 naming another domain's frame: #GP (R8.1 step 2)": {
    rule: 'R8.1',
    fault: { kind: 'GP', rule: 'R8.1' },
    setup: `
    let x = alloc()
    let other = mfn(0) - 0x1000
    expect owner(other) == domid(b)`,
    op: 'mov cr3, other << 12',
    before: { other: [1, 0, 'NONE', 0, 0] },
    xen: 'write_cr',
  },
  'mov cr3 of a frame pinned as L2: #GP, cr3 unchanged (R8.1 step 3)': {
    rule: 'R2.3',
    fault: { kind: 'GP', rule: 'R8.1' },
    setup: `
    let l2 = alloc()
    mmuext pin_l2_table, mfn(l2)`,
    op: 'mov cr3, mfn(l2) << 12',
    before: { 'mfn(l2)': [2, 1, 'L2', 1, 1] },
    xen: 'new_guest_cr3',
  },

  // ---- writable page tables (§9) ----
  'a kernel write through a read-only mapping of an L1 that would map an L4 writable: original #PF P|W (R9.2 step 4)':
    {
      rule: 'R3.3',
      fault: { kind: 'PF', code: 3, rule: 'R9.2' },
      setup: `
    let l4 = alloc()
    let l3 = alloc()
    let l2 = alloc()
    let l1 = alloc()
    mmu_update pte_addr(mfn(l4), 0), mfn(l3) << 12 | P | RW, pte_addr(mfn(l3), 0), mfn(l2) << 12 | P | RW, pte_addr(mfn(l2), 0), mfn(l1) << 12 | P | RW, pte_addr(mfn(l1), 1), mfn(l1) << 12 | P
    mmuext new_baseptr, mfn(l4)
    expect rc == 0`,
      op: 'write va(0, 0, 0, 1, 16), mfn(l4) << 12 | P | RW',
      before: { 'mfn(l1)': [3, 1, 'L1', 0, 1], 'mfn(l4)': [2, 1, 'L4', 0, 1] },
      xen: 'ptwr_emulated_update',
    },
  'a misaligned kernel write to an L1 in use: original #PF P|W (R9.1 step 5, R9.2 step 4)': {
    rule: 'R9.1',
    fault: { kind: 'PF', code: 3, rule: 'R9.2' },
    setup: `
    let l4 = alloc()
    let l3 = alloc()
    let l2 = alloc()
    let l1 = alloc()
    mmu_update pte_addr(mfn(l4), 0), mfn(l3) << 12 | P | RW, pte_addr(mfn(l3), 0), mfn(l2) << 12 | P | RW, pte_addr(mfn(l2), 0), mfn(l1) << 12 | P | RW, pte_addr(mfn(l1), 1), mfn(l1) << 12 | P
    mmuext new_baseptr, mfn(l4)
    expect rc == 0`,
    op: 'write32 va(0, 0, 0, 1, 18), 0',
    before: { 'mfn(l1)': [3, 1, 'L1', 0, 1] },
    xen: 'ptwr',
  },
  'a write through a read-only mapping of an L2: a guest #PF P|W, not emulated (R9.3)': {
    rule: 'R9.3',
    fault: { kind: 'PF', code: 3, rule: 'R9.3' },
    setup: `
    let l4 = alloc()
    let l3 = alloc()
    let l2 = alloc()
    let l1 = alloc()
    mmu_update pte_addr(mfn(l4), 0), mfn(l3) << 12 | P | RW, pte_addr(mfn(l3), 0), mfn(l2) << 12 | P | RW, pte_addr(mfn(l2), 0), mfn(l1) << 12 | P | RW, pte_addr(mfn(l1), 1), mfn(l2) << 12 | P
    mmuext new_baseptr, mfn(l4)
    expect rc == 0`,
    op: 'write va(0, 0, 0, 1, 8), 0',
    before: { 'mfn(l2)': [3, 1, 'L2', 0, 1] },
    xen: 'pv_inject_page_fault',
  },
  'invlpg in a PV guest: #GP, the TLB unchanged (R8.4)': {
    rule: 'R8.4',
    fault: { kind: 'GP', rule: 'R8.4' },
    setup: L1_PINNED,
    op: 'invlpg 0x1000',
    before: { 'mfn(l1)': [2, 1, 'L1', 1, 1] },
    xen: '',
  },
};

describe('PV error codes and refusals: counts before and after, nothing else changed', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`${c.rule}: ${name}`, () => check(c));
  }
});
