/** What statements hand to the host, and how expressions compute values. */
import { describe, expect, it } from 'vitest';
import { run, src } from './helpers';

const A = 'domain a pv memory=16M vcpus=2';
const B = 'domain b hvm memory=16M';

describe('Interpreter statements reach the host', () => {
  it('passes every statement through with its evaluated operands', () => {
    const r = run(
      src(
        A,
        'domain w pv memory=4K',
        'vcpu a',
        '  write8 0x10, 0x1ff',
        '  write16 0x10, 1',
        '  write32 0x10, 2',
        '  write64 0x10, 3',
        '  write 0x10, 4',
        '  fetch 0x20',
        '  mov cr3, 0x5000',
        '  invlpg 0x30',
        '  mode user',
        '  mode kernel',
        '  mmu_update 1, 2, 3, 4 foreign=w',
        '  mmuext pin_l4_table, 7',
        '  mmuext tlb_flush_all',
        '  update_va_mapping 0x1000, 5, UVMF_INVLPG | UVMF_ALL',
        'end',
      ),
    );
    expect(r.host.calls).toEqual([
      'a.0 write8 0x10 0x1ff',
      'a.0 write16 0x10 0x1',
      'a.0 write32 0x10 0x2',
      'a.0 write64 0x10 0x3',
      'a.0 write64 0x10 0x4',
      'a.0 fetch 0x20',
      'a.0 mov cr3 0x5000',
      'a.0 invlpg 0x30',
      'a.0 mode user',
      'a.0 mode kernel',
      'a.0 mmu_update 0x1=0x2 0x3=0x4 foreign=w',
      'a.0 mmuext pin_l4_table 0x7',
      'a.0 mmuext tlb_flush_all 0x0',
      'a.0 update_va_mapping 0x1000 0x5 0x6',
    ]);
  });

  it('prints numbers in lowercase hex without padding, strings as written, one space apart', () => {
    const r = run(
      src(A, 'vcpu a', '  print "rc is", -EINVAL, "zero", 0, 0xABC', '  print "a \\"b\\" \\\\"', 'end'),
    );
    expect(r.output).toEqual(['rc is 0xffffffffffffffea zero 0x0 0xabc', 'a "b" \\']);
  });

  it('computes the pure built-ins itself and domid from declaration order', () => {
    const r = run(
      src(
        A,
        B,
        'vcpu a',
        '  print va(511, 0, 0, 1, 0xfff), va(255, 511, 511, 511), l4_index(0xffff_8000_0000_0000), l2_index(0x40_0000)',
        '  print gpa(3), pte_addr(2, 511), domid(a), domid(b), mfn(1)',
        'end',
      ),
    );
    expect(r.output).toEqual(['0xffffff8000001fff 0x7ffffffff000 0x100 0x2', '0x3000 0x2ff8 0x1 0x2 0x101']);
  });
});

describe('Interpreter values', () => {
  it('wraps arithmetic, compares unsigned and gives 0 for shifts of 64 or more', () => {
    const r = run(
      src(
        A,
        'vcpu a',
        '  let m = 0xffffffffffffffff',
        '  print m + 2, 0 - 1, m * m, -1 == m, ~0 == m, !5, !0',
        '  print 1 << 63, 1 << 64, m >> 64, m >> 63, 1 << 200',
        '  print -1 > 0, 0 - 1 < 0, 7 / 2, 7 % 4, -EINVAL == 0 - EINVAL',
        '  print 2 && 3, 0 || 5, 0 && 1, 3 | 4 ^ 1 & 7',
        'end',
      ),
    );
    expect(r.output).toEqual([
      '0x1 0xffffffffffffffff 0x1 0x1 0x1 0x0 0x1',
      '0x8000000000000000 0x0 0x0 0x1 0x0',
      '0x1 0x0 0x3 0x3 0x1',
      '0x1 0x1 0x0 0x7',
    ]);
  });

  it('short-circuits && and || so the skipped read does not happen', () => {
    const r = run(
      src(
        A,
        'vcpu a',
        '  let x = 0 && read64(0x10)',
        '  let y = 1 || read64(0x20)',
        '  let z = 1 && read64(0x30)',
        'end',
      ),
    );
    expect(r.host.calls).toEqual(['a.0 read64 0x30']);
  });

  it('reads registers at their point in the evaluation', () => {
    const host = run(src(A, 'vcpu a', 'end')).host;
    host.memory.faultingPages.add(5n);
    host.memory.write(8, 0x1000n, 1n);
    const r = run(
      src(
        A,
        'vcpu a',
        '  write 0x5000, 1', //                                    a fault: PF
        '  let before = fault == NOFAULT && read64(0x1000) == 1', // the previous statement's fault: no read
        '  let after = read64(0x1000) == 1 && fault == NOFAULT', //  the read's own fault
        '  let sum = read64(0x5000) + read64(0x1000)', //           the second read decides
        '  print before, after, sum, fault',
        '  let again = read64(0x1000) + read64(0x5000)',
        '  print fault == PF, fault_addr',
        'end',
      ),
      1000,
      host,
    );
    expect(r.output).toEqual(['0x0 0x1 0x1 0x0', '0x1 0x5000']);
    expect(r.host.calls.filter((c) => c.includes('read'))).toEqual([
      'a.0 read64 0x1000',
      'a.0 read64 0x5000',
      'a.0 read64 0x1000',
      'a.0 read64 0x1000',
      'a.0 read64 0x5000',
    ]);
  });

  it('evaluates operands and arguments left to right', () => {
    const r = run(
      src(
        A,
        'vcpu a',
        '  let x = read8(1) - read16(2) + pte_addr(read32(3), read64(4))',
        '  write read8(5), read8(6)',
        'end',
      ),
    );
    expect(r.host.calls.map((c) => c.split(' ')[1] + c.split(' ')[2])).toEqual([
      'read80x1',
      'read160x2',
      'read320x3',
      'read640x4',
      'read80x5',
      'read80x6',
      'write640x0',
    ]);
  });
});
