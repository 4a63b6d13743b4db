import { describe, it, expect } from 'vitest';
import { runPv } from './pvHarness';

const EXAMPLE = `
domain web pv memory=16M

vcpu web
    let l4 = alloc()
    let l3 = alloc()
    let l2 = alloc()
    let l1 = alloc()
    let data = alloc()
    mmuext pin_l1_table, mfn(l1)
    expect rc == 0
    mmu_update pte_addr(mfn(l1), 0), mfn(data) << 12 | P | RW | US
    mmuext pin_l2_table, mfn(l2)
    mmu_update pte_addr(mfn(l2), 0), mfn(l1) << 12 | P | RW | US
    mmuext pin_l3_table, mfn(l3)
    mmu_update pte_addr(mfn(l3), 0), mfn(l2) << 12 | P | RW | US
    mmuext pin_l4_table, mfn(l4)
    mmu_update pte_addr(mfn(l4), 0), mfn(l3) << 12 | P | RW | US
    mmuext new_baseptr, mfn(l4)
    write 0x10, 0xdeadbeef
    expect fault == NOFAULT && read64(0x10) == 0xdeadbeef
    mmu_update pte_addr(mfn(l1), 1), mfn(l2) << 12 | P | RW | US
    expect rc == -EBUSY
    expect type_of(mfn(l2)) == L2 && pinned(mfn(l2))
    mmu_update pte_addr(mfn(l1), 1), mfn(l2) << 12 | P
    expect rc == 0 && ref_count(mfn(l2)) == 4 && type_count(mfn(l2)) == 1
end
`;

describe('smoke', () => {
  it('runs the language example', () => {
    const r = runPv(EXAMPLE, { audit: true });
    expect(r.stderr).toEqual([]);
    const refusal = r.events.find((e) => e.class === 'refusal');
    console.log(refusal);
  });
});
