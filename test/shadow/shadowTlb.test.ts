/**
 * hvm-paging.md §8 under shadow: what the TLB caches and what uses or drops it (R8.1, R8.2), and the
 * introspection built-ins `translate`, `guest_translate`, `tlb_lookup` (R8.3, R8.4). Values are
 * printed and compared with the machine frames the domain's p2m gives; the audit runs after every
 * statement.
 */
import { describe, expect, it } from 'vitest';
import { SETUP, clean, kit, maHex, prog, std } from './ruleKit';

/** SETUP plus L1 gfn 3 entry 9 → gfn 5 supervisor-only (A, D) and entry 11 → gfn 6 global (A, D). */
const T_SETUP = [
  ...SETUP.slice(0, 6),
  '    write pte_addr(3, 9), gpa(5) | P | RW | A | D',
  '    write pte_addr(3, 11), gpa(6) | P | RW | US | A | D | G',
  ...SETUP.slice(6),
];

function t(body: string) {
  const k = kit(prog(body, undefined, T_SETUP));
  clean(k);
  return k;
}

describe('R8.1 what the TLB caches under shadow', () => {
  it('never a global entry: a CR3 write drops a G mapping even with CR4.PGE set', () => {
    const k = t(
      [
        '    mov cr4, cr4 | PGE',
        '    let x = read64(0xb000)',
        '    print tlb_lookup(0xb008)',
        '    mov cr3, cr3   ; @cr3',
        '    expect tlb_lookup(0xb000) == -1',
      ].join('\n'),
    );
    expect(k.r.stdout).toEqual([maHex(k, 6, 8)]);
    expect(k.at('@cr3')).toMatchObject([{ class: 'cr_write', reg: 3, tlb_flush: 'all' }]);
  });

  it('only completed hardware accesses fill it: not a guest fault, an emulated write or MMIO', () => {
    const k = t(
      [
        '    let x = read64(0x5000)',
        '    expect fault == PF && tlb_lookup(0x5000) == -1',
        '    write 0x2048, 0',
        '    expect tlb_lookup(0x2000) == -1',
        '    write 0x1000 + 8 * 12, 0x4000_0000 | P | RW | A | D',
        '    x = read64(0xc000)',
        '    expect x == -1 && tlb_lookup(0xc000) == -1',
        '    x = read64(0)',
        '    expect tlb_lookup(0) != -1',
      ].join('\n'),
    );
    void k;
  });
});

describe('R8.2 TLB use', () => {
  it('an entry that does not permit the access is a miss: a write through a read-only entry faults and refills it', () => {
    const k = t(
      [
        '    let x = read64(0)',
        '    print tlb_lookup(0)',
        '    write 0x0, 1   ; @w',
        '    print tlb_lookup(0)',
        '    write 0x8, 2   ; @hit',
      ].join('\n'),
    );
    expect(k.r.stdout).toEqual([maHex(k, 4), maHex(k, 4)]);
    expect(k.at('@w')).toMatchObject([{ class: 'fixup', access: 'write', gfn: 4 }]);
    expect(k.at('@hit')).toEqual([]);
  });

  it('a supervisor entry filled at CPL 0 does not serve CPL 3: the shadow walk refuses and the guest gets its #PF', () => {
    const k = t(
      [
        '    let x = read64(0x9000)',
        '    expect tlb_lookup(0x9000) != -1',
        '    mode user',
        '    x = read64(0x9000)   ; @user',
        '    expect fault == PF && fault_code == (PF_P | PF_U)',
      ].join('\n'),
    );
    expect(k.at('@user')).toMatchObject([
      { class: 'propagate', cpl: 3, error_code: 5n, level: 1, reason: 'protection' },
      { class: 'fault', fault: 'PF' },
    ]);
  });
});

describe('R8.3–R8.4 translate, guest_translate, tlb_lookup', () => {
  it('with paging off: translate is the p2m (or -1), guest_translate the address itself, no TLB entry', () => {
    const k = kit(
      prog(
        [
          '    print translate(0x5123), translate(0x4000_0000), guest_translate(0x4000_0000)',
          '    let x = read64(0x5000)',
          '    expect tlb_lookup(0x5000) == -1',
        ].join('\n'),
        undefined,
        [],
      ),
    );
    clean(k);
    expect(k.r.stdout).toEqual([`${maHex(k, 5, 0x123)} 0xffffffffffffffff 0x40000000`]);
  });

  it('with paging on: a read at the current mode; the guest tables answer where no shadow is built', () => {
    const k = t(
      [
        '    print translate(0x9010), guest_translate(0x9010)',
        '    mode user',
        '    print translate(0x9010), guest_translate(0x9010)',
        '    mode kernel',
        '    let x = read64(0x9000)',
        '    mode user',
        '    print translate(0x9010), tlb_lookup(0x9010)',
      ].join('\n'),
    );
    expect(k.r.stdout).toEqual([
      `${maHex(k, 5, 0x10)} 0x5010`,
      '0xffffffffffffffff 0xffffffffffffffff',
      `0xffffffffffffffff ${maHex(k, 5, 0x10)}`,
    ]);
  });

  it('a guest walk that fails, and an unbacked final gfn, give -1', () => {
    const k = t(
      [
        '    write 0x1000 + 8 * 12, 0x4000_0000 | P | RW | A | D',
        '    print translate(0xc000), guest_translate(0xc000), translate(0xd000), guest_translate(0xd000)',
      ].join('\n'),
    );
    expect(k.r.stdout).toEqual(['0xffffffffffffffff 0x40000000 0xffffffffffffffff 0xffffffffffffffff']);
  });
});

describe('R8.4 introspection under shadow is side-effect free', () => {
  it('translate and guest_translate set no A bit and build no shadow', () => {
    const k = std('    expect translate(0) != -1 && guest_translate(0) == gpa(4) && shadow_count() == 1');
    expect(k.gentry(0, 0)).toBe(0x1007n);
    expect(k.gentry(3, 0)).toBe(0x4007n);
  });
});
