/**
 * One test per numbered rule of xen-semantics.md, each a self-checking guest program that asserts
 * the counts before and after the operation. Every program runs with the frame audit after every
 * step (R1.3), so a rule test also fails when any count drifts.
 */
import { describe, it, expect } from 'vitest';
import { auditFrames } from '../../engine/pv/frameAudit';
import { eventsOf, runPv } from './pvHarness';
import type { RunResult } from './pvHarness';

const DOMAINS = `
domain a pv memory=16M vcpus=2 privileged
domain b pv memory=16M
`;

/** Builds l4 → l3 → l2 → l1 (pfns) at index 0 of each and loads l4; returns rc. */
const BUILD = `
proc build(l4, l3, l2, l1)
    mmu_update pte_addr(mfn(l4), 0), mfn(l3) << 12 | P | RW, pte_addr(mfn(l3), 0), mfn(l2) << 12 | P | RW, pte_addr(mfn(l2), 0), mfn(l1) << 12 | P | RW
    mmuext new_baseptr, mfn(l4)
    return rc
end
`;

function run(body: string, extra = '', domains = DOMAINS): RunResult {
  const src = `${domains}${BUILD}${extra}\nvcpu a\n${body}\nend\n`;
  const r = runPv(src, { audit: true });
  expect(r.stderr).toEqual([]);
  return r;
}

describe('R1 the frame table', () => {
  it('R1.2: a fresh domain frame has owner, general count 1, type NONE and its pfn in the M2P', () => {
    run(`
    let p = alloc()
    expect owner(mfn(p)) == domid(a) && ref_count(mfn(p)) == 1 && type_of(mfn(p)) == NONE
    expect type_count(mfn(p)) == 0 && validated(mfn(p)) == 0 && pinned(mfn(p)) == 0
    expect pfn(mfn(p)) == p && mfn(p) != p
    expect pfn(0) == 0xffff_ffff_ffff_ffff && owner(0) == 0 && ref_count(0) == 0`);
  });

  it('R1.4: the M2P frames and the tables that map it', () => {
    const r = run(`
    let p = alloc()`);
    const layout = r.engine.machine.layout;
    const ft = r.engine.machine.frameTable;
    const n = layout.poolFrames;
    expect(ft.owner(n)).toBe(0x7ff2);
    expect([ft.refCount(n), ft.typeCount(n), ft.validated(n), ft.pinned(n)]).toEqual([1, 1, true, false]);
    expect([ft.owner(layout.l3RoMpt), ft.refCount(layout.l3RoMpt)]).toEqual([0, 0]);
    expect((layout.m2pEntries * 8) % (2 * 1024 * 1024)).toBe(0);
    expect(ft.m2p(layout.m2pEntries)).toBe(0xffff_ffff_ffff_ffffn);
  });
});

describe('R2 reference primitives', () => {
  it('R2.1/R2.6: a frame of another domain, a free frame or a non-existent one cannot be pinned: -EINVAL', () => {
    run(
      `
    let p = alloc()
    let other = call other_mfn()
    mmuext pin_l1_table, other
    expect rc == -EINVAL && ref_count(other) == 1 && type_count(other) == 0
    mmuext pin_l1_table, 0
    expect rc == -EINVAL && ref_count(0) == 0
    mmuext pin_l1_table, 1 << 40
    expect rc == -EINVAL`,
      `
proc other_mfn()
    return mfn(0) - 0x1000
end`,
      `
domain a pv memory=16M vcpus=2 privileged
domain b pv memory=16M`,
    );
  });

  it('R2.3: a type reference of another type while the count is > 0 is refused and changes nothing', () => {
    run(`
    let t = alloc()
    mmuext pin_l1_table, mfn(t)
    expect rc == 0 && ref_count(mfn(t)) == 2 && type_count(mfn(t)) == 1
    mmuext pin_l2_table, mfn(t)
    expect rc == -EINVAL && ref_count(mfn(t)) == 2 && type_count(mfn(t)) == 1 && type_of(mfn(t)) == L1`);
  });

  it('R2.4: the last type reference devalidates the table and releases its entries; the type stays', () => {
    run(`
    let l2 = alloc()
    let l1 = alloc()
    let d = alloc()
    mmu_update pte_addr(mfn(l1), 0), mfn(d) << 12 | P | RW
    mmu_update pte_addr(mfn(l2), 0), mfn(l1) << 12 | P
    mmuext pin_l2_table, mfn(l2)
    expect rc == 0 && type_of(mfn(l1)) == L1 && type_count(mfn(l1)) == 1 && ref_count(mfn(l1)) == 2
    expect type_of(mfn(d)) == WRITABLE && type_count(mfn(d)) == 1 && ref_count(mfn(d)) == 2
    mmuext unpin_table, mfn(l2)
    expect rc == 0 && type_of(mfn(l2)) == L2 && type_count(mfn(l2)) == 0 && validated(mfn(l2)) == 0
    expect type_of(mfn(l1)) == L1 && type_count(mfn(l1)) == 0 && ref_count(mfn(l1)) == 1 && validated(mfn(l1)) == 0
    expect type_of(mfn(d)) == WRITABLE && type_count(mfn(d)) == 0 && validated(mfn(d)) == 1 && ref_count(mfn(d)) == 1`);
  });

  it('R2.5/R2.5a: an L1 failing at entry 1 ends NONE with every count restored and entry 0 adjusted', () => {
    run(`
    let l1 = alloc()
    let d = alloc()
    let e = alloc()
    mmu_update pte_addr(mfn(l1), 0), mfn(d) << 12 | P | RW, pte_addr(mfn(l1), 1), mfn(e) << 12 | P | PWT
    mmuext pin_l1_table, mfn(l1)
    expect rc == -EINVAL && type_of(mfn(l1)) == NONE && type_count(mfn(l1)) == 0 && ref_count(mfn(l1)) == 1
    expect ref_count(mfn(d)) == 1 && type_count(mfn(d)) == 0 && type_of(mfn(d)) == WRITABLE && validated(mfn(d)) == 1
    mmuext pin_l2_table, mfn(d)
    expect rc == 0
    mmu_update pte_addr(mfn(d), 0), mfn(l1) << 12 | P
    expect rc == -EBUSY && type_of(mfn(l1)) == NONE && type_count(mfn(d)) == 1`);
  });

  it('R2.5: an L2 failing at entry 2 ends L2 with count 0; failing at entry 0 it ends NONE', () => {
    run(`
    let l2 = alloc()
    let l1 = alloc()
    mmu_update pte_addr(mfn(l2), 0), mfn(l1) << 12 | P, pte_addr(mfn(l2), 2), mfn(l1) << 12 | P | PS
    mmuext pin_l2_table, mfn(l2)
    expect rc == -EINVAL && type_of(mfn(l2)) == L2 && type_count(mfn(l2)) == 0 && validated(mfn(l2)) == 0
    expect ref_count(mfn(l2)) == 1 && type_of(mfn(l1)) == L1 && type_count(mfn(l1)) == 0 && ref_count(mfn(l1)) == 1
    let m2 = alloc()
    mmu_update pte_addr(mfn(m2), 0), mfn(l1) << 12 | P | PS
    mmuext pin_l2_table, mfn(m2)
    expect rc == -EINVAL && type_of(mfn(m2)) == NONE && type_count(mfn(m2)) == 0 && ref_count(mfn(m2)) == 1`);
  });

  it('R2.5b: L4 fails at slot 1 on an L3 failing at 0 on an L2 failing at 1: the L2 is lost', () => {
    const r = run(`
    let l4 = alloc()
    let l3 = alloc()
    let l2 = alloc()
    let l1 = alloc()
    let x3 = alloc()
    mmu_update pte_addr(mfn(l2), 0), mfn(l1) << 12 | P, pte_addr(mfn(l2), 1), mfn(l1) << 12 | P | PS
    mmu_update pte_addr(mfn(l3), 0), mfn(l2) << 12 | P
    mmu_update pte_addr(mfn(l4), 0), mfn(x3) << 12 | P, pte_addr(mfn(l4), 1), mfn(l3) << 12 | P
    mmuext pin_l4_table, mfn(l4)
    expect rc == -EINVAL
    expect type_of(mfn(l4)) == L4 && type_count(mfn(l4)) == 0 && ref_count(mfn(l4)) == 1
    expect type_of(mfn(l3)) == NONE && type_count(mfn(l3)) == 0 && ref_count(mfn(l3)) == 1
    expect type_of(mfn(l2)) == L2 && type_count(mfn(l2)) == 1 && validated(mfn(l2)) == 0 && ref_count(mfn(l2)) == 3
    expect type_of(mfn(l1)) == L1 && type_count(mfn(l1)) == 1 && validated(mfn(l1)) == 1 && ref_count(mfn(l1)) == 2
    expect type_of(mfn(x3)) == L3 && type_count(mfn(x3)) == 0`);
    expect(eventsOf(r, 'partial_validation').map((e) => (e as { state: string }).state)).toEqual(['lost']);
  });
});

describe('R3 validation', () => {
  it('R3.1: the disallowed flags of each level; not-present entries are never checked', () => {
    run(`
    let l2 = alloc()
    let l1 = alloc()
    let d = alloc()
    mmuext pin_l1_table, mfn(l1)
    mmuext pin_l2_table, mfn(l2)
    for f in 0..3
        let bit = PWT
        if f == 1
            bit = PCD
        end
        if f == 2
            bit = PS
        end
        mmu_update pte_addr(mfn(l1), 0), mfn(d) << 12 | P | bit
        expect rc == -EINVAL && ref_count(mfn(d)) == 1
    end
    mmu_update pte_addr(mfn(l1), 0), mfn(d) << 12 | P | G
    expect rc == 0 && ref_count(mfn(d)) == 2
    mmu_update pte_addr(mfn(l2), 0), mfn(l1) << 12 | P | G
    expect rc == -EINVAL && ref_count(mfn(l1)) == 2
    mmu_update pte_addr(mfn(l2), 0), mfn(l1) << 12 | P | PS
    expect rc == -EINVAL
    mmu_update pte_addr(mfn(l2), 1), 0xffff_ffff_ffff_fffe
    expect rc == 0 && read64(0) == 0`);
  });

  it('R3.3: -EPERM beyond the machine, -EINVAL for INVALID_MFN, -EBUSY for free, foreign and page-table frames', () => {
    run(`
    let l1 = alloc()
    let l2 = alloc()
    mmuext pin_l1_table, mfn(l1)
    mmuext pin_l2_table, mfn(l2)
    mmu_update pte_addr(mfn(l1), 0), (1 << 39) << 12 | P
    expect rc == -EPERM && done == 0
    mmu_update pte_addr(mfn(l1), 0), 0xff_ffff_ffff << 12 | P
    expect rc == -EINVAL
    mmu_update pte_addr(mfn(l1), 0), 0x10 << 12 | P
    expect rc == -EBUSY && ref_count(0x10) == 0
    mmu_update pte_addr(mfn(l1), 1), mfn(l2) << 12 | P | RW
    expect rc == -EBUSY && ref_count(mfn(l2)) == 2 && type_count(mfn(l2)) == 1
    mmu_update pte_addr(mfn(l1), 1), mfn(l2) << 12 | P
    expect rc == 0 && ref_count(mfn(l2)) == 3 && type_count(mfn(l2)) == 1`);
  });

  it('R3.4: an L2 entry naming a frame of another domain is -EINVAL; a nested -EBUSY comes back as it is', () => {
    run(`
    let l2 = alloc()
    let l1 = alloc()
    let l2b = alloc()
    mmuext pin_l2_table, mfn(l2)
    mmuext pin_l2_table, mfn(l2b)
    mmu_update pte_addr(mfn(l2), 0), (mfn(0) - 0x1000) << 12 | P
    expect rc == -EINVAL
    mmu_update pte_addr(mfn(l1), 5), mfn(l2b) << 12 | P | RW
    mmu_update pte_addr(mfn(l2), 0), mfn(l1) << 12 | P
    expect rc == -EBUSY && type_of(mfn(l1)) == NONE && ref_count(mfn(l1)) == 1 && type_count(mfn(l2b)) == 1`);
  });

  it('R3.6: linear page tables: read-only self-maps hold nothing, other tables must be validated', () => {
    run(`
    let l4 = alloc()
    let m4 = alloc()
    let x4 = alloc()
    mmuext pin_l4_table, mfn(l4)
    mmu_update pte_addr(mfn(l4), 5), mfn(l4) << 12 | P
    expect rc == 0 && ref_count(mfn(l4)) == 2 && type_count(mfn(l4)) == 1
    mmu_update pte_addr(mfn(l4), 6), mfn(l4) << 12 | P | RW
    expect rc == -EINVAL
    let y = alloc()
    mmu_update pte_addr(mfn(l4), 8), mfn(y) << 12 | P
    expect rc == 0 && type_of(mfn(y)) == L3 && validated(mfn(y))
    mmuext pin_l4_table, mfn(m4)
    mmu_update pte_addr(mfn(l4), 7), mfn(m4) << 12 | P
    expect rc == 0 && ref_count(mfn(m4)) == 3 && type_count(mfn(m4)) == 2
    mmuext pin_l4_table, mfn(x4)
    mmu_update pte_addr(mfn(x4), 1), mfn(l4) << 12 | P
    expect rc == -EINVAL && type_count(mfn(l4)) == 1
    mmu_update pte_addr(mfn(m4), 1), mfn(x4) << 12 | P
    expect rc == -EINVAL && type_count(mfn(x4)) == 1
    mmu_update pte_addr(mfn(l4), 7), 0
    expect rc == 0 && ref_count(mfn(m4)) == 2 && type_count(mfn(m4)) == 1
    mmu_update pte_addr(mfn(x4), 1), mfn(l4) << 12 | P
    expect rc == 0 && type_count(mfn(l4)) == 2`);
  });

  it('R3.7: slots 256-271 cannot be written; validation writes the linear slot; new_baseptr fills the M2P slot', () => {
    const r = run(`
    let l4 = alloc()
    let l3 = alloc()
    let l2 = alloc()
    let l1 = alloc()
    mmuext pin_l4_table, mfn(l4)
    mmu_update pte_addr(mfn(l4), 256), 0
    expect rc == -EINVAL && done == 0
    mmu_update pte_addr(mfn(l4), 271), mfn(l3) << 12 | P
    expect rc == -EINVAL
    mmu_update pte_addr(mfn(l4), 272), mfn(l3) << 12 | P
    expect rc == 0
    let built = call build(l4, l3, l2, l1)
    expect built == 0
    mmu_update pte_addr(mfn(l1), 1), mfn(l4) << 12 | P
    expect rc == 0
    let e258 = read64(va(0, 0, 0, 1, 258 * 8))
    expect e258 == (mfn(l4) << 12 | P | RW | A | D | NX)
    let e256 = read64(va(0, 0, 0, 1, 256 * 8))
    expect (e256 & P) != 0 && (e256 & RW) == 0 && (e256 & US) != 0 && (e256 & NX) != 0
    expect read64(va(0, 0, 0, 1, 257 * 8)) == 0
    mmu_update pte_addr(mfn(l4), 256), 0
    expect rc == -EINVAL`);
    expect(r.engine.machine.frameTable.refCount(r.engine.machine.layout.l3RoMpt)).toBe(0);
  });

  it('R3.8: adjustments: kernel pages get US and bit 52, user pages US and G, L2/L3 US, L4 US and A', () => {
    run(`
    let l4 = alloc()
    let l3 = alloc()
    let l2 = alloc()
    let l1 = alloc()
    let d = alloc()
    let built = call build(l4, l3, l2, l1)
    expect built == 0
    mmu_update pte_addr(mfn(l1), 1), mfn(l1) << 12 | P, pte_addr(mfn(l1), 2), mfn(d) << 12 | P | RW | US, pte_addr(mfn(l1), 3), mfn(l4) << 12 | P
    mmu_update pte_addr(mfn(l1), 4), mfn(l2) << 12 | P
    expect rc == 0
    expect (read64(va(0, 0, 0, 1, 8)) & ~(A | D)) == (mfn(l1) << 12 | P | US | (1 << 52))
    expect (read64(va(0, 0, 0, 1, 16)) & ~(A | D)) == (mfn(d) << 12 | P | RW | US | G)
    expect (read64(va(0, 0, 0, 3, 0)) & ~D) == (mfn(l3) << 12 | P | RW | US | A)
    expect (read64(va(0, 0, 0, 4, 0)) & ~(A | D)) == (mfn(l1) << 12 | P | RW | US)`);
  });
});

describe('R4 releasing entries', () => {
  it('R4: replacing and clearing entries releases the old references, new before old', () => {
    run(`
    let l1 = alloc()
    let d = alloc()
    mmuext pin_l1_table, mfn(l1)
    mmu_update pte_addr(mfn(l1), 0), mfn(d) << 12 | P | RW
    expect ref_count(mfn(d)) == 2 && type_count(mfn(d)) == 1
    mmu_update pte_addr(mfn(l1), 0), mfn(d) << 12 | P
    expect ref_count(mfn(d)) == 2 && type_count(mfn(d)) == 0 && type_of(mfn(d)) == WRITABLE
    mmu_update pte_addr(mfn(l1), 0), 0
    expect ref_count(mfn(d)) == 1`);
  });
});

describe('R5 mmu_update', () => {
  it('R5.1: foreign= naming itself is -ESRCH with done 0; a batch stops at its first failure', () => {
    const r = run(`
    let l1 = alloc()
    let d = alloc()
    mmuext pin_l1_table, mfn(l1)
    mmu_update pte_addr(mfn(l1), 0), mfn(d) << 12 | P foreign=a
    expect rc == -ESRCH && done == 0 && ref_count(mfn(d)) == 1
    mmu_update pte_addr(mfn(l1), 0), mfn(d) << 12 | P, pte_addr(mfn(l1), 1), mfn(d) << 12 | P | PCD, pte_addr(mfn(l1), 2), mfn(d) << 12 | P
    expect rc == -EINVAL && done == 1 && ref_count(mfn(d)) == 2`);
    const res = eventsOf(r, 'hypercall_result').at(-1) as { failed_index: number; done: number };
    expect([res.failed_index, res.done]).toEqual([1, 1]);
  });

  it('R5.2/R11: commands 4-7 are -ENOSYS; command 3 is a normal update for a PV guest', () => {
    run(`
    let l1 = alloc()
    let d = alloc()
    mmuext pin_l1_table, mfn(l1)
    mmu_update pte_addr(mfn(l1), 0) | 5, 0
    expect rc == -ENOSYS && done == 0
    mmu_update pte_addr(mfn(l1), 0) | 3, mfn(d) << 12 | P
    expect rc == 0 && ref_count(mfn(d)) == 2`);
  });

  it('R5.3: -EPERM for foreign= from a non-control domain, -EINVAL for a frame not owned; plain writes', () => {
    const src = `${DOMAINS}
vcpu b
    let l1 = alloc()
    mmuext pin_l1_table, mfn(l1)
    mmu_update pte_addr(mfn(l1), 0), 0 foreign=a
    expect rc == -EPERM && done == 0
    mmu_update pte_addr(mfn(l1) - 0x1000, 0), 0
    expect rc == -EINVAL && done == 0
    let w = alloc()
    mmu_update pte_addr(mfn(w), 3), 0x1234
    expect rc == 0 && type_of(mfn(w)) == WRITABLE && type_count(mfn(w)) == 0 && validated(mfn(w)) == 1
    mmuext unpin_table, mfn(l1)
    mmu_update pte_addr(mfn(l1), 0), 0x5
    expect rc == 0 && type_of(mfn(l1)) == WRITABLE
end
`;
    const r = runPv(src, { audit: true });
    expect(r.stderr).toEqual([]);
  });

  it('R5.4: the fast path changes no count; PRESERVE_AD keeps the old A and D', () => {
    const r = run(`
    let l1 = alloc()
    let d = alloc()
    mmuext pin_l1_table, mfn(l1)
    mmu_update pte_addr(mfn(l1), 0), mfn(d) << 12 | P | RW | A | D
    mmu_update pte_addr(mfn(l1), 0) | 2, mfn(d) << 12 | P | RW | NX
    expect rc == 0 && ref_count(mfn(d)) == 2 && type_count(mfn(d)) == 1`);
    const updates = eventsOf(r, 'entry_update') as unknown as { path: string; new: bigint }[];
    const last = updates.at(-1)!;
    expect(last.path).toBe('fast');
    expect(last.new & 0x60n).toBe(0x60n);
  });

  it('R5.5: RW is not on the upper fast path; a changed L2 entry takes new before releasing old', () => {
    const r = run(`
    let l2 = alloc()
    let l1 = alloc()
    mmuext pin_l2_table, mfn(l2)
    mmu_update pte_addr(mfn(l2), 0), mfn(l1) << 12 | P
    mmu_update pte_addr(mfn(l2), 0), mfn(l1) << 12 | P | RW
    expect rc == 0 && type_count(mfn(l1)) == 1 && ref_count(mfn(l1)) == 2 && validated(mfn(l1))`);
    const updates = eventsOf(r, 'entry_update') as unknown as { path: string }[];
    expect(updates.at(-1)!.path).toBe('full');
    expect(eventsOf(r, 'tlb_flush').some((e) => (e as { cause: string }).cause === 'upper_update')).toBe(
      true,
    );
  });

  it('R5.6: MMU_MACHPHYS_UPDATE sets the M2P entry; -EINVAL for HVM foreign and frames not owned, -EPERM unprivileged', () => {
    const src = `
domain a pv memory=16M privileged
domain b pv memory=16M
domain h hvm memory=16M paging=hap
vcpu a
    let p = alloc()
    mmu_update pte_addr(mfn(p), 0) | 1, 0x1234_5678_9abc
    expect rc == 0 && pfn(mfn(p)) == 0x1234_5678_9abc && ref_count(mfn(p)) == 1
    mmu_update pte_addr(mfn(p), 0) | 1, 7 foreign=h
    expect rc == -EINVAL && done == 0
    mmu_update pte_addr(mfn(p), 0) | 1, 7 foreign=b
    expect rc == -EINVAL
end
vcpu b
    let q = alloc()
    mmu_update pte_addr(mfn(q), 0) | 1, 7 foreign=a
    expect rc == -EPERM
    mmu_update pte_addr(mfn(q), 0) | 1, 7 foreign=h
    expect rc == -EINVAL
end
`;
    const r = runPv(src, { audit: true });
    expect(r.stderr).toEqual([]);
  });

  it('R5.7: a control domain maps an HVM domain frame by gfn: a general reference, no type reference', () => {
    const src = `
domain a pv memory=16M privileged
domain h hvm memory=16M paging=hap
vcpu a
    let l1 = alloc()
    mmuext pin_l1_table, mfn(l1)
    mmu_update pte_addr(mfn(l1), 0), 5 << 12 | P | RW foreign=h
    expect rc == 0
    mmu_update pte_addr(mfn(l1), 1), 0x10_0000 << 12 | P foreign=h
    expect rc == -EINVAL && done == 0
end
`;
    const r = runPv(src, { audit: true });
    expect(r.stderr).toEqual([]);
    const h = r.engine.machine.domain('h')!;
    const m = h.pfnToMfn(5);
    const ft = r.engine.machine.frameTable;
    expect([ft.refCount(m), ft.typeCount(m), ft.type(m)]).toEqual([2, 0, 0]);
  });
});

describe('R6 mmuext', () => {
  it('R6.1/R6.2: pin holds one general and one type reference; double pin and unpin of an unpinned frame are -EINVAL', () => {
    run(`
    let t = alloc()
    mmuext pin_l3_table, mfn(t)
    expect rc == 0 && pinned(mfn(t)) && ref_count(mfn(t)) == 2 && type_count(mfn(t)) == 1 && validated(mfn(t))
    mmuext pin_l3_table, mfn(t)
    expect rc == -EINVAL && ref_count(mfn(t)) == 2 && type_count(mfn(t)) == 1
    mmuext unpin_table, mfn(t)
    expect rc == 0 && pinned(mfn(t)) == 0 && ref_count(mfn(t)) == 1 && type_count(mfn(t)) == 0
    mmuext unpin_table, mfn(t)
    expect rc == -EINVAL
    mmuext unpin_table, 0
    expect rc == -EINVAL`);
  });

  it('R6.3/R6.4: base pointers hold references, validate unpinned L4s and release the old one', () => {
    run(`
    let l4 = alloc()
    let m4 = alloc()
    expect cr3 == 0
    mmuext new_baseptr, 0
    expect rc == 0
    mmuext new_baseptr, mfn(l4)
    expect rc == 0 && cr3 == mfn(l4) << 12 && type_of(mfn(l4)) == L4 && type_count(mfn(l4)) == 1 && ref_count(mfn(l4)) == 2
    mmuext new_user_baseptr, mfn(l4)
    expect rc == 0 && type_count(mfn(l4)) == 2 && ref_count(mfn(l4)) == 3
    mmuext new_baseptr, mfn(m4)
    expect rc == 0 && type_count(mfn(l4)) == 1 && type_count(mfn(m4)) == 1
    mmuext new_user_baseptr, 0
    expect rc == 0 && type_count(mfn(l4)) == 0 && validated(mfn(l4)) == 0 && ref_count(mfn(l4)) == 1
    let l1 = alloc()
    mmuext pin_l1_table, mfn(l1)
    mmuext new_baseptr, mfn(l1)
    expect rc == -EINVAL && cr3 == mfn(m4) << 12
    mmuext new_user_baseptr, mfn(l1)
    expect rc == -EINVAL`);
  });

  it('R6.5: TLB operations always succeed', () => {
    const r = run(`
    mmuext tlb_flush_local
    expect rc == 0
    mmuext tlb_flush_all
    expect rc == 0
    mmuext invlpg_local, 0x1000
    expect rc == 0
    mmuext invlpg_all, 0xffff_8000_0000_0000
    expect rc == 0`);
    const flushes = eventsOf(r, 'tlb_flush') as unknown as { vcpus: number[]; scope: string }[];
    expect(flushes.map((f) => [f.scope, f.vcpus.length])).toEqual([
      ['all', 1],
      ['all', 2],
      ['one', 1],
    ]);
  });
});

describe('R7 update_va_mapping', () => {
  it('R7: maps through the kernel tables, refuses bad addresses and missing L1s, and flushes as asked', () => {
    run(`
    let l4 = alloc()
    let l3 = alloc()
    let l2 = alloc()
    let l1 = alloc()
    let d = alloc()
    let e = alloc()
    update_va_mapping 0x1000, mfn(d) << 12 | P | RW, UVMF_NONE
    expect rc == -EINVAL
    let built = call build(l4, l3, l2, l1)
    expect built == 0
    update_va_mapping 0x1000, mfn(d) << 12 | P | RW, UVMF_INVLPG | UVMF_LOCAL
    expect rc == 0 && ref_count(mfn(d)) == 2 && type_count(mfn(d)) == 1
    write 0x1000, 7
    expect fault == NOFAULT && tlb_lookup(0x1000) == mfn(d) << 12
    update_va_mapping 0x1000, mfn(e) << 12 | P | RW, UVMF_NONE
    expect rc == 0 && tlb_lookup(0x1000) == mfn(d) << 12 && read64(0x1000) == 7
    update_va_mapping 0x1000, mfn(e) << 12 | P | RW, UVMF_TLB_FLUSH | UVMF_ALL
    expect rc == 0 && read64(0x1000) == 0
    update_va_mapping 0xffff_8000_0000_0000, 0, 0
    expect rc == -EINVAL
    update_va_mapping 0x4000_0000, 0, 0
    expect rc == -EINVAL
    update_va_mapping 0x2000, mfn(l2) << 12 | P | RW, 0
    expect rc == -EBUSY
    update_va_mapping 0x2000, mfn(e) << 12 | P, UVMF_TLB_FLUSH | 0x7000_0000
    expect rc == -EFAULT && ref_count(mfn(e)) == 3`);
  });
});

describe('R8 control registers', () => {
  it('R8.1: mov cr3 loads a base pointer, a refused one is #GP; user mode is #GP', () => {
    run(`
    let l4 = alloc()
    let l1 = alloc()
    mov cr3, mfn(l4) << 12 | 0xfff
    expect fault == NOFAULT && cr3 == mfn(l4) << 12 && type_count(mfn(l4)) == 1
    mmuext pin_l1_table, mfn(l1)
    mov cr3, mfn(l1) << 12
    expect fault == GP && fault_code == 0 && cr3 == mfn(l4) << 12
    mov cr3, 0x5000
    expect fault == GP
    mode user
    mov cr3, mfn(l4) << 12
    expect fault == GP`);
  });

  it('R8.1a: a refused mov cr3 leaves the partly validated L4 pending until the next hypercall', () => {
    const r = run(`
    let l4 = alloc()
    let l3 = alloc()
    let l3b = alloc()
    mmu_update pte_addr(mfn(l4), 0), mfn(l3) << 12 | P, pte_addr(mfn(l4), 1), mfn(l3b) << 12 | P | PS
    mov cr3, mfn(l4) << 12
    expect fault == GP && cr3 == 0
    expect type_of(mfn(l4)) == L4 && type_count(mfn(l4)) == 1 && validated(mfn(l4)) == 0 && ref_count(mfn(l4)) == 3
    expect type_of(mfn(l3)) == L3 && type_count(mfn(l3)) == 1 && validated(mfn(l3)) == 1 && ref_count(mfn(l3)) == 2
    write 0x0, 1
    expect type_count(mfn(l4)) == 1
    mmuext tlb_flush_local
    expect type_count(mfn(l4)) == 0 && ref_count(mfn(l4)) == 1 && type_count(mfn(l3)) == 0 && ref_count(mfn(l3)) == 1`);
    expect(eventsOf(r, 'partial_validation').map((e) => (e as { state: string }).state)).toEqual([
      'pending',
      'finished',
    ]);
  });

  it('R8.2/R8.3/R8.4: cr0 only toggles TS, cr4 keeps the guest bits, invlpg is #GP', () => {
    run(`
    expect cr0 == 0x80050033 && cr4 == 0x660
    mov cr0, cr0 | TS
    expect fault == NOFAULT && cr0 == 0x8005003b
    mov cr0, PE | WP | PG
    expect fault == GP && cr0 == 0x8005003b
    mov cr4, 0xffff_ffff
    expect fault == NOFAULT && cr4 == 0x660 | 0x5000c
    invlpg 0x1000
    expect fault == GP
    mode user
    mov cr4, 0
    expect fault == GP && cr4 == 0x5066c`);
  });
});

describe('R9 writable page tables', () => {
  it('R9.1/R9.2: a kernel write through a read-only mapping of an L1 in use is emulated; a bad one is #PF P|W', () => {
    const r = run(`
    let l4 = alloc()
    let l3 = alloc()
    let l2 = alloc()
    let l1 = alloc()
    let d = alloc()
    let built = call build(l4, l3, l2, l1)
    expect built == 0
    mmu_update pte_addr(mfn(l1), 1), mfn(l1) << 12 | P
    write va(0, 0, 0, 1, 16), mfn(d) << 12 | P | RW
    expect fault == NOFAULT && ref_count(mfn(d)) == 2 && type_count(mfn(d)) == 1
    write va(0, 0, 0, 1, 24), mfn(l2) << 12 | P | RW
    expect fault == PF && fault_code == PF_P | PF_W && fault_addr == va(0, 0, 0, 1, 24)
    write32 va(0, 0, 0, 1, 18), 0
    expect fault == PF
    write8 va(0, 0, 0, 1, 16), 0
    expect fault == NOFAULT && ref_count(mfn(d)) == 1
    mmu_update pte_addr(mfn(l1), 3), mfn(l2) << 12 | P
    write va(0, 0, 0, 3, 0), 0
    expect fault == PF && fault_code == PF_P | PF_W
    mode user
    write va(0, 0, 0, 1, 16), 0
    expect fault == PF && fault_code == PF_P | PF_W | PF_U`);
    const ptwr = eventsOf(r, 'ptwr') as unknown as { ok: boolean }[];
    expect(ptwr.map((p) => p.ok)).toEqual([true, false, false, true]);
  });
});

describe('R10 the PV walk and the TLB', () => {
  it('R10.1/R10.2: fault codes, the M2P slot, the linear slot and non-canonical addresses', () => {
    run(`
    let l4 = alloc()
    let l3 = alloc()
    let l2 = alloc()
    let l1 = alloc()
    let d = alloc()
    let x = read64(0)
    expect fault == PF && fault_code == 0
    let built = call build(l4, l3, l2, l1)
    expect built == 0
    x = read64(0x5000)
    expect fault == PF && fault_code == 0 && fault_addr == 0x5000
    write 0x5000, 1
    expect fault == PF && fault_code == PF_W
    mmu_update pte_addr(mfn(l1), 5), mfn(d) << 12 | P | NX
    fetch 0x5000
    expect fault == PF && fault_code == PF_P | PF_I
    expect read64(va(256, 0, 0, 0) + 8 * mfn(d)) == pfn(mfn(d)) && fault == NOFAULT
    expect translate(va(256, 0, 0, 0) + 8 * mfn(d)) != 0xffff_ffff_ffff_ffff
    write va(256, 0, 0, 0), 1
    expect fault == PF && fault_code == PF_P | PF_W
    x = read64(va(258, 0, 0, 0))
    expect fault == PF && fault_code == PF_P && translate(va(258, 0, 0, 0)) == 0xffff_ffff_ffff_ffff
    x = read64(va(257, 0, 0, 0))
    expect fault == PF && fault_code == 0
    x = read64(0x0000_8000_0000_0000)
    expect fault == GP
    mode user
    x = read64(0x5000)
    expect fault == PF && fault_code == PF_U`);
  });

  it('R10.1: an access spanning two pages faults on the second page without writing the first', () => {
    run(`
    let l4 = alloc()
    let l3 = alloc()
    let l2 = alloc()
    let l1 = alloc()
    let d = alloc()
    let built = call build(l4, l3, l2, l1)
    expect built == 0
    mmu_update pte_addr(mfn(l1), 5), mfn(d) << 12 | P | RW
    write 0x5ffc, 0x1122334455667788
    expect fault == PF && fault_addr == 0x6000
    expect read32(0x5ffc) == 0 && fault == NOFAULT`);
  });

  it('R10.3: a mode switch drops non-global entries; global user pages stay', () => {
    run(`
    let l4 = alloc()
    let l3 = alloc()
    let l2 = alloc()
    let l1 = alloc()
    let d = alloc()
    let u = alloc()
    let built = call build(l4, l3, l2, l1)
    expect built == 0
    mmuext new_user_baseptr, mfn(l4)
    mmu_update pte_addr(mfn(l1), 5), mfn(d) << 12 | P | RW, pte_addr(mfn(l1), 6), mfn(u) << 12 | P | RW | US
    let x = read64(0x5000) + read64(0x6000)
    expect tlb_lookup(0x5000) != 0xffff_ffff_ffff_ffff && tlb_lookup(0x6000) != 0xffff_ffff_ffff_ffff
    mode user
    expect tlb_lookup(0x5000) == 0xffff_ffff_ffff_ffff && tlb_lookup(0x6000) == mfn(u) << 12
    mode user
    expect tlb_lookup(0x6000) == mfn(u) << 12`);
  });

  it('R10.4: a type change flushes the owner vCPUs not flushed since the frame was last released', () => {
    const r = run(`
    let l1 = alloc()
    let d = alloc()
    mmuext pin_l1_table, mfn(l1)
    mmuext tlb_flush_all
    mmu_update pte_addr(mfn(l1), 0), mfn(d) << 12 | P | RW
    mmu_update pte_addr(mfn(l1), 0), 0
    mmuext pin_l1_table, mfn(d)
    expect rc == 0 && type_of(mfn(d)) == L1`);
    const tc = (
      eventsOf(r, 'tlb_flush') as unknown as { cause: string; vcpus: number[]; mfn: number | null }[]
    ).filter((f) => f.cause === 'type_change');
    // l1 NONE→L1 (stamp 0: both vCPUs), d NONE→WRITABLE after the flush-all (none: stamp 0 < flushedAt),
    // d WRITABLE→L1: stamped after the flush-all, so both vCPUs flush again.
    expect(tc.map((f) => f.vcpus)).toEqual([
      [0, 1],
      [0, 1],
    ]);
  });
});

describe('R14 explanations', () => {
  it('R14.2: a nested validation failure explains the chain outermost first', () => {
    const r = run(`
    let l2 = alloc()
    let l1 = alloc()
    let t4 = alloc()
    mmuext pin_l4_table, mfn(t4)
    mmu_update pte_addr(mfn(l1), 5), mfn(t4) << 12 | P | RW
    mmu_update pte_addr(mfn(l2), 3), mfn(l1) << 12 | P
    mmuext pin_l2_table, mfn(l2)
    expect rc == -EBUSY`);
    const refusal = eventsOf(r, 'refusal').at(-1) as unknown as { explanation: string; rule: string };
    expect(refusal.rule).toBe('R3.3');
    expect(refusal.explanation).toMatch(
      /^pin_l2_table of mfn 0x[0-9a-f]+ would validate it as an L2, but its entry 3 \(value 0x[0-9a-f]+\) names L1 mfn 0x[0-9a-f]+, whose entry 5 \(value 0x[0-9a-f]+\) would map mfn 0x[0-9a-f]+ writable, and mfn 0x[0-9a-f]+ is an L4 page table \(type count 1, pinned\) — promote_l2_table → get_page_from_l2e → promote_l1_table → get_page_from_l1e → get_page_type: -EBUSY$/,
    );
  });
});

describe('rules without a test above', () => {
  it('R1.1: the fields of a frame and Xen’s type encoding; SEG_DESC is a name only', () => {
    run(`
    expect NONE == 0 && L1 == 1 && L2 == 2 && L3 == 3 && L4 == 4 && SEG_DESC == 5 && WRITABLE == 7
    let l1 = alloc()
    expect owner(mfn(l1)) == domid(a) && ref_count(mfn(l1)) == 1 && type_of(mfn(l1)) == NONE
    expect type_count(mfn(l1)) == 0 && validated(mfn(l1)) == 0 && pinned(mfn(l1)) == 0
    mmuext pin_l1_table, mfn(l1)
    expect owner(mfn(l1)) == domid(a) && ref_count(mfn(l1)) == 2 && type_of(mfn(l1)) == L1
    expect type_count(mfn(l1)) == 1 && validated(mfn(l1)) == 1 && pinned(mfn(l1)) == 1`);
  });

  it('R1.3: the audit recounts from scratch and reports a count, a pin or a writable mapping that is off', () => {
    const r = run(`
    let l4 = alloc()
    let l3 = alloc()
    let l2 = alloc()
    let l1 = alloc()
    let d = alloc()
    let built = call build(l4, l3, l2, l1)
    expect built == 0
    mmu_update pte_addr(mfn(l1), 5), mfn(d) << 12 | P | RW
    mmuext pin_l1_table, mfn(l1)
    expect rc == 0 && ref_count(mfn(l1)) == 3 && type_count(mfn(l1)) == 2`);
    const m = r.engine.machine;
    const ft = m.frameTable;
    const d = m.domains[0];
    const [l2, l1, data] = [2, 3, 4].map((p) => d.pfnToMfn(p));
    expect(auditFrames(m).count).toBe(0);
    const poke = (change: () => void, undo: () => void, pattern: RegExp): void => {
      change();
      const a = auditFrames(m);
      expect(a.count).toBeGreaterThan(0);
      expect(a.violations.map((v) => v.message).join('\n')).toMatch(pattern);
      undo();
      expect(auditFrames(m).count).toBe(0);
    };
    poke(
      () => ft.setRefCount(data, 3),
      () => ft.setRefCount(data, 2),
      new RegExp(data.toString(16)),
    );
    poke(
      () => ft.setTypeCount(l1, 1),
      () => ft.setTypeCount(l1, 2),
      new RegExp(l1.toString(16)),
    );
    poke(
      () => ft.setPinned(l2, true),
      () => ft.setPinned(l2, false),
      new RegExp(l2.toString(16)),
    );
    // A writable mapping of a page-table page written behind Xen's back.
    const lo = m.memory.readLo(l1, 5);
    poke(
      () => m.memory.writeEntry(l1, 6, ((l2 % 0x100000) * 4096 + 0x7) >>> 0, Math.floor(l2 / 0x100000)),
      () => m.memory.writeEntry(l1, 6, 0, 0),
      /writable|WRITABLE|count/,
    );
    expect(m.memory.readLo(l1, 5)).toBe(lo);
  });

  it('R2.2: each released mapping drops one general reference; the allocation reference stays', () => {
    run(`
    let l1 = alloc()
    let d = alloc()
    mmuext pin_l1_table, mfn(l1)
    mmu_update pte_addr(mfn(l1), 0), mfn(d) << 12 | P, pte_addr(mfn(l1), 1), mfn(d) << 12 | P
    expect rc == 0 && ref_count(mfn(d)) == 3 && type_count(mfn(d)) == 0 && type_of(mfn(d)) == NONE
    mmu_update pte_addr(mfn(l1), 0), 0
    expect ref_count(mfn(d)) == 2 && type_count(mfn(d)) == 0 && pinned(mfn(d)) == 0 && validated(mfn(d)) == 0
    mmu_update pte_addr(mfn(l1), 1), 0
    expect ref_count(mfn(d)) == 1 && type_count(mfn(d)) == 0 && owner(mfn(d)) == domid(a)`);
  });

  it('R3.2: entries are scanned 0 to 511, not-present ones skipped, the first failure stops; L4 Xen slots are skipped', () => {
    const r = run(`
    let l1 = alloc()
    let d = alloc()
    mmu_update pte_addr(mfn(l1), 0), mfn(d) << 12 | P, pte_addr(mfn(l1), 3), 0xffff_ffff_ffff_fffe, pte_addr(mfn(l1), 5), mfn(d) << 12 | P | PWT, pte_addr(mfn(l1), 7), mfn(d) << 12 | P | PCD
    expect ref_count(mfn(d)) == 1 && type_of(mfn(l1)) == WRITABLE
    mmuext pin_l1_table, mfn(l1)
    expect rc == -EINVAL && type_of(mfn(l1)) == NONE && type_count(mfn(l1)) == 0 && ref_count(mfn(l1)) == 1
    expect ref_count(mfn(d)) == 1 && type_count(mfn(d)) == 0
    let l4 = alloc()
    mmu_update pte_addr(mfn(l4), 260), mfn(d) << 12 | P | PS | RW, pte_addr(mfn(l4), 258), 0x1234
    mmuext pin_l4_table, mfn(l4)
    expect rc == 0 && type_of(mfn(l4)) == L4 && type_count(mfn(l4)) == 1 && ref_count(mfn(l4)) == 2
    expect ref_count(mfn(d)) == 1 && type_count(mfn(d)) == 0`);
    const validates = eventsOf(r, 'validate') as unknown as { ok: boolean; failed_index: number | null }[];
    expect(validates.map((v) => [v.ok, v.failed_index])).toEqual([
      [false, 5],
      [true, null],
    ]);
    const m = r.engine.machine;
    const l1 = m.domains[0].pfnToMfn(0);
    const l4 = m.domains[0].pfnToMfn(2);
    // Entry 3 (not present) is stored as given; entry 0, before the failure, stays adjusted (R2.5a).
    expect(m.memory.readEntry(l1, 3)).toBe(0xffff_ffff_ffff_fffen);
    expect(m.memory.readLo(l1, 0) & 0x4).toBe(0x4);
    // The Xen slots were ignored, then written: 260 cleared, 258 the linear map.
    expect(m.memory.readEntry(l4, 260)).toBe(0n);
    expect(m.memory.readEntry(l4, 258)).toBe((BigInt(l4) << 12n) | 0x63n | (1n << 63n));
  });

  it('R3.5: what each kind of entry holds on its target', () => {
    run(`
    let l4 = alloc()
    let l3 = alloc()
    let l2 = alloc()
    let l1 = alloc()
    let ro = alloc()
    let rw = alloc()
    let built = call build(l4, l3, l2, l1)
    expect built == 0
    expect ref_count(mfn(l4)) == 2 && type_count(mfn(l4)) == 1
    expect ref_count(mfn(l3)) == 2 && type_count(mfn(l3)) == 1 && ref_count(mfn(l2)) == 2 && type_count(mfn(l2)) == 1
    mmu_update pte_addr(mfn(l1), 0), mfn(ro) << 12 | P, pte_addr(mfn(l1), 1), mfn(rw) << 12 | P | RW
    expect ref_count(mfn(ro)) == 2 && type_count(mfn(ro)) == 0 && type_of(mfn(ro)) == NONE
    expect ref_count(mfn(rw)) == 2 && type_count(mfn(rw)) == 1 && type_of(mfn(rw)) == WRITABLE
    mmu_update pte_addr(mfn(l4), 9), mfn(l4) << 12 | P
    expect rc == 0 && ref_count(mfn(l4)) == 2 && type_count(mfn(l4)) == 1
    mmu_update pte_addr(mfn(l1), 1), mfn(l4) << 12 | P
    expect rc == 0 && ref_count(mfn(l4)) == 3 && type_count(mfn(l4)) == 1 && type_of(mfn(l4)) == L4
    expect ref_count(mfn(rw)) == 1 && type_count(mfn(rw)) == 0 && type_of(mfn(rw)) == WRITABLE
    expect (read64(va(0, 0, 0, 1, 258 * 8)) & P) == P && fault == NOFAULT`);
  });

  it('R6.6: the constants of the language', () => {
    run(`
    expect MMU_NORMAL_PT_UPDATE == 0 && MMU_MACHPHYS_UPDATE == 1 && MMU_PT_UPDATE_PRESERVE_AD == 2
    expect MMU_PT_UPDATE_NO_TRANSLATE == 3 && UVMF_NONE == 0 && UVMF_TLB_FLUSH == 1 && UVMF_INVLPG == 2
    expect UVMF_LOCAL == 0 && UVMF_ALL == 4 && DOMID_SELF == 0x7ff0 && DOMID_XEN == 0x7ff2`);
  });

  it('R10.3: which operations flush the TLB, and whom', () => {
    const r = run(`
    let l4 = alloc()
    let l3 = alloc()
    let l2 = alloc()
    let l1 = alloc()
    let d = alloc()
    let built = call build(l4, l3, l2, l1)
    expect built == 0
    mmuext tlb_flush_all
    mmu_update pte_addr(mfn(l1), 5), mfn(d) << 12 | P | RW
    let x = read64(0x5000)
    mmu_update pte_addr(mfn(l1), 5), 0
    expect tlb_lookup(0x5000) == mfn(d) << 12
    mmu_update pte_addr(mfn(l2), 1), 0
    expect tlb_lookup(0x5000) == 0xffff_ffff_ffff_ffff
    mmuext new_user_baseptr, mfn(l4)
    mmuext new_baseptr, mfn(l4)
    mmuext invlpg_local, 0x5000
    update_va_mapping 0x5000, mfn(d) << 12 | P | RW, UVMF_INVLPG | UVMF_ALL`);
    const flushes = (
      eventsOf(r, 'tlb_flush') as unknown as { line: number; cause: string; scope: string; vcpus: number[] }[]
    ).map((f) => [f.cause, f.scope, f.vcpus.join()]);
    // build writes tables not yet in use (plain writes, no flush), then new_baseptr flushes this
    // vCPU; no flush for an L1 update or new_user_baseptr; upper_update flushes every vCPU.
    expect(flushes.filter(([cause]) => cause !== 'type_change')).toEqual([
      ['new_baseptr', 'all', '0'],
      ['mmuext', 'all', '0,1'],
      ['upper_update', 'all', '0,1'],
      ['new_baseptr', 'all', '0'],
      ['mmuext', 'one', '0'],
      ['update_va_mapping', 'one', '0,1'],
    ]);
  });

  it('R14.1: the events of a refused batch, in Xen’s order', () => {
    const r = run(`
    let l1 = alloc()
    let l2 = alloc()
    let d = alloc()
    mmuext pin_l1_table, mfn(l1)
    mmuext pin_l2_table, mfn(l2)
    mmu_update pte_addr(mfn(l1), 0), mfn(d) << 12 | P | RW, pte_addr(mfn(l1), 1), mfn(l2) << 12 | P | RW
    expect rc == -EBUSY && done == 1`);
    const step = (eventsOf(r, 'hypercall_result').at(-1) as unknown as { step: number }).step;
    const classes = r.events.filter((e) => e.step === step).map((e) => e.class);
    expect(classes).toEqual([
      'hypercall',
      'ref_taken',
      'type_change',
      'ref_taken',
      'entry_update',
      'ref_taken',
      'ref_dropped',
      'refusal',
      'hypercall_result',
    ]);
  });

  it('R14.3: the example of the semantics page, with the refusal event of events.md §2', () => {
    const r = runPv(
      `
domain web pv memory=16M
vcpu web
    let l1 = alloc()
    let l2 = alloc()
    mmuext pin_l1_table, mfn(l1)            ; L1, type count 1, ref 2, pinned, validated
    mmuext pin_l2_table, mfn(l2)
    mmu_update pte_addr(mfn(l1), 1), mfn(l2) << 12 | P | RW
    expect rc == -EBUSY && done == 0        ; R3.3: writable mapping of an L2 page
    mmu_update pte_addr(mfn(l1), 1), mfn(l2) << 12 | P
    expect rc == 0 && ref_count(mfn(l2)) == 3 && type_count(mfn(l2)) == 1
end
`,
      { audit: true },
    );
    expect(r.stderr).toEqual([]);
    const refusal = eventsOf(r, 'refusal')[0] as unknown as Record<string, unknown>;
    // events.md §2 and §5: the chain starts at the function owning the rule, R3.3's get_page_from_l1e.
    expect([refusal.rule, refusal.xen_function, refusal.rc]).toEqual([
      'R3.3',
      'get_page_from_l1e',
      (1n << 64n) - 16n,
    ]);
    expect(refusal.explanation).toMatch(
      /^L1 entry 1 of mfn 0x[0-9a-f]+ would map mfn 0x[0-9a-f]+ writable, but mfn 0x[0-9a-f]+ is an L2 page table \(type count 1, pinned\) — get_page_from_l1e → get_page_type: -EBUSY$/,
    );
    const step = (refusal as { step: number }).step;
    expect(r.events.filter((e) => e.step === step).map((e) => e.class)).toEqual([
      'hypercall',
      'ref_taken',
      'ref_dropped',
      'refusal',
      'hypercall_result',
    ]);
  });

  it('R9.2/events.md: the emulated write (ptwr) is the trap’s own event, logged first', () => {
    const r = run(`
    let l4 = alloc()
    let l3 = alloc()
    let l2 = alloc()
    let l1 = alloc()
    let d = alloc()
    let built = call build(l4, l3, l2, l1)
    expect built == 0
    mmu_update pte_addr(mfn(l1), 1), mfn(l1) << 12 | P
    write va(0, 0, 0, 1, 16), mfn(d) << 12 | P | RW
    expect fault == NOFAULT && ref_count(mfn(d)) == 2 && type_count(mfn(d)) == 1
    write va(0, 0, 0, 1, 24), mfn(l2) << 12 | P | RW
    expect fault == PF && fault_code == PF_P | PF_W && ref_count(mfn(l2)) == 2`);
    const steps = (eventsOf(r, 'ptwr') as unknown as { step: number }[]).map((e) => e.step);
    const classesOf = (step: number): string[] => r.events.filter((e) => e.step === step).map((e) => e.class);
    expect(classesOf(steps[0])).toEqual(['ptwr', 'ref_taken', 'type_change', 'ref_taken', 'entry_update']);
    expect(classesOf(steps[1])).toEqual(['ptwr', 'ref_taken', 'ref_dropped', 'refusal', 'fault']);
  });

  it('R10.4/events.md: a type change is logged before the flush it causes', () => {
    const r = run(`
    let l1 = alloc()
    mmuext pin_l1_table, mfn(l1)
    expect rc == 0`);
    const step = (eventsOf(r, 'pin')[0] as unknown as { step: number }).step;
    const classes = r.events.filter((e) => e.step === step).map((e) => e.class);
    expect(classes.indexOf('type_change')).toBeGreaterThanOrEqual(0);
    expect(classes.indexOf('tlb_flush')).toBe(classes.indexOf('type_change') + 1);
  });
});

describe('introspection built-ins in a PV domain (guest-language.md)', () => {
  it('type_of, type_count, ref_count, pinned, validated and owner read the frame table', () => {
    const r = run(
      `
    let l1 = alloc()
    let d = alloc()
    expect type_of(mfn(l1)) == NONE && type_count(mfn(l1)) == 0 && ref_count(mfn(l1)) == 1
    expect pinned(mfn(l1)) == 0 && validated(mfn(l1)) == 0 && owner(mfn(l1)) == domid(a)
    mmuext pin_l1_table, mfn(l1)
    mmu_update pte_addr(mfn(l1), 0), mfn(d) << 12 | P | RW
    expect type_of(mfn(l1)) == L1 && type_count(mfn(l1)) == 1 && ref_count(mfn(l1)) == 2
    expect pinned(mfn(l1)) == 1 && validated(mfn(l1)) == 1
    expect type_of(mfn(d)) == WRITABLE && type_count(mfn(d)) == 1 && validated(mfn(d)) == 1
    mmuext unpin_table, mfn(l1)
    expect type_of(mfn(l1)) == L1 && type_count(mfn(l1)) == 0 && pinned(mfn(l1)) == 0 && validated(mfn(l1)) == 0
    expect type_of(mfn(d)) == WRITABLE && type_count(mfn(d)) == 0 && validated(mfn(d)) == 1 && ref_count(mfn(d)) == 1
    expect owner(0) == 0 && ref_count(0) == 0 && owner(mfn(0) - 0x1000) == domid(b)
    ; the pool ends with a's 16 MiB; the M2P's frames follow it (R1.4)
    let m2p = (mfn(0) | 0xfff) + 1
    expect owner(m2p) == DOMID_XEN && ref_count(m2p) == 1 && type_count(m2p) == 1 && validated(m2p) == 1
    expect type_of(m2p) == NONE && pinned(m2p) == 0
    expect owner(m2p - 1) == domid(a)`,
    );
    expect(r.stdout).toEqual([]);
  });

  it('pfn reads the M2P: the pfn, a MACHPHYS value, or INVALID_M2P_ENTRY', () => {
    run(`
    let p = alloc()
    expect pfn(mfn(p)) == p && pfn(mfn(7)) == 7
    expect pfn(0) == 0xffff_ffff_ffff_ffff && pfn(1 << 40) == 0xffff_ffff_ffff_ffff
    mmu_update mfn(p) << 12 | MMU_MACHPHYS_UPDATE, 0x1234_5678_9abc_def0
    expect rc == 0 && pfn(mfn(p)) == 0x1234_5678_9abc_def0 && mfn(p) != 0x1234_5678_9abc_def0
    expect ref_count(mfn(p)) == 1 && type_of(mfn(p)) == NONE`);
  });

  it('translate walks the tables of the current mode with no side effects; tlb_lookup reads the TLB', () => {
    run(`
    let l4 = alloc()
    let l3 = alloc()
    let l2 = alloc()
    let l1 = alloc()
    let d = alloc()
    let u = alloc()
    expect translate(0x5000) == 0xffff_ffff_ffff_ffff && tlb_lookup(0x5000) == 0xffff_ffff_ffff_ffff
    let built = call build(l4, l3, l2, l1)
    expect built == 0
    mmu_update pte_addr(mfn(l1), 5), mfn(d) << 12 | P | RW, pte_addr(mfn(l1), 6), mfn(u) << 12 | P | US, pte_addr(mfn(l1), 1), mfn(l1) << 12 | P
    expect translate(0x5123) == mfn(d) << 12 | 0x123 && fault == NOFAULT
    expect tlb_lookup(0x5123) == 0xffff_ffff_ffff_ffff
    ; translate set no A bit in the entry it used (read through the L1's own mapping at va 0x1000)
    expect (read64(va(0, 0, 0, 1, 5 * 8)) & A) == 0 && fault == NOFAULT && read64(va(0, 0, 0, 1, 5 * 8)) != 0
    let x = read64(0x5008)
    expect tlb_lookup(0x5123) == mfn(d) << 12 | 0x123
    mmu_update pte_addr(mfn(l1), 5), mfn(u) << 12 | P | RW
    expect translate(0x5000) == mfn(u) << 12 && tlb_lookup(0x5000) == mfn(d) << 12
    expect translate(0x7000) == 0xffff_ffff_ffff_ffff && fault == NOFAULT
    mode user
    expect translate(0x6000) == 0xffff_ffff_ffff_ffff
    mmuext new_user_baseptr, mfn(l4)
    expect rc == -ENOSYS
    mode kernel
    mmuext new_user_baseptr, mfn(l4)
    mode user
    expect translate(0x6000) == mfn(u) << 12 && translate(0x5000) == mfn(u) << 12`);
  });
});
