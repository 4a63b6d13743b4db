/**
 * hvm-paging.md R1.2–R1.3 and §4 under shadow with paging on: unbacked memory (the MMIO slow and fast
 * paths, magic entries), unbacked tables, the hardware step (R4.1), faults the guest's tables forbid
 * (R4.2), the fixup steps (R4.3, with WP = 0 emulation), what a shadow entry holds (R4.4), prefetch
 * (R4.5) and what does not trap (R4.6). Shadow state and exact events of the tagged lines; the
 * audit runs after every statement.
 */
import { describe, expect, it } from 'vitest';
import { A, D, P, RW, SETUP, US, clean, kit, leaf, magic, prog } from './ruleKit';
import type { Kit } from './ruleKit';

const NX = 1n << 63n;

/**
 * SETUP plus L1 gfn 3 entries: 5 → unbacked gpa 0x4000_0000 (A, D), 6 → unbacked 0x4010_0000 (A),
 * 7 → unbacked 0x4020_0000 read-only (A), 8 → gfn 4 read-only, 9 → gfn 4 supervisor, 10 → gfn 4 NX,
 * 11 → gfn 4 with G, PWT, PCD and NX; L2 entry 1 names an unbacked L1 (VA 0x200000); L2 entry 2 names
 * L1 gfn 10 (VA 0x400000, a mix for prefetch), entry 3 names L1 gfn 11 (VA 0x600000, all 512 mapped).
 */
const FP_SETUP = [
  ...SETUP.slice(0, 6),
  '    write pte_addr(3, 5), 0x4000_0000 | P | RW | US | A | D',
  '    write pte_addr(3, 6), 0x4010_0000 | P | RW | US | A',
  '    write pte_addr(3, 7), 0x4020_0000 | P | US | A',
  '    write pte_addr(3, 8), gpa(4) | P | US | A',
  '    write pte_addr(3, 9), gpa(4) | P | RW | A | D',
  '    write pte_addr(3, 10), gpa(4) | P | US | A | NX',
  '    write pte_addr(3, 11), gpa(4) | P | RW | US | A | D | G | PWT | PCD | NX',
  '    write pte_addr(2, 1), 0x4000_0000 | P | RW | US',
  '    write pte_addr(2, 2), gpa(10) | P | RW | US',
  '    write pte_addr(2, 3), gpa(11) | P | RW | US',
  '    write pte_addr(10, 0), gpa(4) | P | RW | US | A | D',
  '    write pte_addr(10, 2), gpa(5) | P | US | A',
  '    write pte_addr(10, 3), gpa(6) | P | RW | US | A | D',
  '    write pte_addr(10, 4), 0x4000_0000 | P | RW | US | A | D',
  '    write pte_addr(10, 5), gpa(7) | P | RW | US | A',
  '    write pte_addr(10, 6), gpa(8) | P | RW | US | A | D',
  '    for i in 0..512',
  '        write pte_addr(11, i), gpa(4) | P | RW | US | A | D',
  '    end',
  ...SETUP.slice(6),
];

function fp(body: string, setup: readonly string[] = FP_SETUP): Kit {
  const k = kit(prog(body, undefined, [...setup]));
  clean(k);
  return k;
}

const ALL_ONES = 0xffff_ffff_ffff_ffffn;

describe('R1.2 unbacked final address under shadow', () => {
  it('slow path: the fault builds the magic entry, then the null handler; fast path on the next access', () => {
    const k = fp(
      [
        '    let x = read64(0)',
        '    let v = read64(0x5008)   ; @slow',
        '    expect v == -1 && fault == NOFAULT && tlb_lookup(0x5008) == -1 && translate(0x5008) == -1',
        '    expect guest_translate(0x5008) == 0x4000_0008',
        '    write32 0x5010, 7   ; @fast',
        '    expect fault == NOFAULT && read64(0x5010) == -1',
      ].join('\n'),
    );
    expect(k.at('@slow')).toMatchObject([
      { class: 'mmio', va: 0x5008n, gpa: 0x4000_0008n, size: 8, dir: 'read', value: ALL_ONES, fast: false },
    ]);
    expect(k.at('@fast')).toMatchObject([
      { class: 'mmio', va: 0x5010n, gpa: 0x4000_0010n, size: 4, dir: 'write', value: 7n, fast: true },
    ]);
    expect(k.sentry(3, 'l1', 5)).toBe(magic(0x40000n, RW | US));
  });

  it('a fetch cannot be emulated: #PF P|I on the slow path, P|RSVD|I on the fast path, PF_U at CPL 3', () => {
    const k = fp(
      [
        '    let x = read64(0)',
        '    fetch 0x6000   ; @f1',
        '    expect fault == PF && fault_code == (PF_P | PF_I) && fault_addr == 0x6000',
        '    fetch 0x6004   ; @f2',
        '    expect fault == PF && fault_code == (PF_P | PF_RSVD | PF_I) && fault_addr == 0x6004',
        '    mode user',
        '    fetch 0x6008   ; @f3',
        '    expect fault == PF && fault_code == (PF_P | PF_RSVD | PF_I | PF_U)',
      ].join('\n'),
    );
    expect(k.at('@f1')).toMatchObject([
      { class: 'mmio', va: 0x6000n, gpa: 0x4010_0000n, dir: 'fetch', value: null, fast: false },
      { class: 'fault', fault: 'PF', cause: 'mmio_fetch', fault_code: 0x11n, rule: 'R1.2' },
    ]);
    expect(k.at('@f2')).toMatchObject([
      { class: 'mmio', dir: 'fetch', fast: true },
      { class: 'fault', fault_code: 0x19n },
    ]);
    expect(k.at('@f3')).toMatchObject([
      { class: 'mmio', fast: true },
      { class: 'fault', fault_code: 0x1dn },
    ]);
    expect(k.sentry(3, 'l1', 6)).toBe(magic(0x40100n, RW | US));
  });

  it('fast path whose emulator walk fails: mmio (fast) then the walk’s #PF, no propagate', () => {
    const k = fp(
      [
        '    let x = read64(0x7000)',
        '    write 0x7000, 1   ; @ro',
        '    expect fault == PF && fault_code == (PF_P | PF_W) && fault_addr == 0x7000',
      ].join('\n'),
    );
    expect(k.at('@ro')).toMatchObject([
      { class: 'mmio', va: 0x7000n, dir: 'write', value: null, fast: true },
      { class: 'fault', fault: 'PF', fault_code: 3n },
    ]);
    expect(k.sentry(3, 'l1', 7)).toBe(magic(0x40200n, US));
  });

  it('a magic entry in an out-of-sync L1 takes the slow path', () => {
    const k = fp(
      [
        '    let x = read64(0x5000)',
        '    write 0x1000 + 8 * 20, 0',
        '    expect out_of_sync(3)',
        '    x = read64(0x5018)   ; @oos',
      ].join('\n'),
    );
    expect(k.at('@oos')).toMatchObject([{ class: 'mmio', gpa: 0x4000_0018n, fast: false }]);
  });

  it('prefetch writes magic entries for unbacked leaves (R4.5)', () => {
    const k = fp('    let x = read64(0x40_0000)   ; @r');
    expect(k.at('@r')).toMatchObject([
      {
        class: 'fixup',
        gfn: 4,
        made: [
          { type: 'l3', gfn: 1 },
          { type: 'l2', gfn: 2 },
          { type: 'l1', gfn: 10 },
        ],
        sl1_index: 0,
      },
    ]);
    expect(k.sentry(10, 'l1', 4)).toBe(magic(0x40000n, RW | US));
  });
});

describe('R1.3 unbacked guest table', () => {
  it('is a plain guest fault under shadow: propagate then #PF with P clear; nothing shadowed', () => {
    const k = fp(
      '    let x = read64(0x20_0000)   ; @t\n    expect fault == PF && fault_code == 0 && fault_addr == 0x20_0000 && shadow_count() == 1',
    );
    expect(k.at('@t')).toMatchObject([
      { class: 'propagate', va: 0x20_0000n, access: 'read', error_code: 0n, reason: 'unbacked_table' },
      { class: 'fault', fault: 'PF', cause: 'unbacked_table', rule: 'R1.3', fault_code: 0n },
    ]);
  });
});

describe('R4.1–R4.2 hardware step and guest faults', () => {
  it('a non-canonical address is #GP(0) before any TLB or walk', () => {
    const k = fp(
      '    let x = read64(0)\n    x = read64(0x8000_0000_0000)   ; @nc\n    expect fault == GP && fault_code == 0 && fault_addr == 0',
    );
    expect(k.at('@nc')).toMatchObject([
      { class: 'fault', fault: 'GP', cause: 'non_canonical', rule: 'R4.1' },
    ]);
  });

  it('the guest’s faults keep its error code, set no A bit, fill no TLB entry, build no shadow', () => {
    const k = fp(
      [
        '    let x = read64(0xd000)   ; @np',
        '    expect fault == PF && fault_code == 0 && shadow_count() == 1',
        '    write 0x8000, 1   ; @ro',
        '    expect fault == PF && fault_code == (PF_P | PF_W) && tlb_lookup(0x8000) == -1',
        '    mode user',
        '    x = read64(0x9000)   ; @sup',
        '    expect fault == PF && fault_code == (PF_P | PF_U)',
        '    mode kernel',
        '    fetch 0xa000   ; @nx',
        '    expect fault == PF && fault_code == (PF_P | PF_I)',
      ].join('\n'),
    );
    expect(k.at('@np')).toMatchObject([
      {
        class: 'propagate',
        va: 0xd000n,
        access: 'read',
        cpl: 0,
        error_code: 0n,
        level: 1,
        reason: 'not_present',
      },
      { class: 'fault', fault: 'PF', cause: 'not_present', level: 1, rule: 'R4.2' },
    ]);
    expect(k.at('@ro')).toMatchObject([
      { class: 'propagate', access: 'write', error_code: 3n, level: 1, reason: 'protection' },
      { class: 'fault', cause: 'protection', fault_code: 3n },
    ]);
    expect(k.at('@sup')).toMatchObject([
      { class: 'propagate', cpl: 3, error_code: 5n, reason: 'protection' },
      { class: 'fault', fault_code: 5n },
    ]);
    expect(k.at('@nx')).toMatchObject([
      { class: 'propagate', access: 'fetch', error_code: 0x11n, reason: 'protection' },
      { class: 'fault', fault_code: 0x11n },
    ]);
    // Every access failed: no A bit was set on the way (the L4 entry is still as written).
    expect(k.gentry(0, 0)).toBe(0x1007n);
    expect(k.shadow(3, 'l1')).toBeUndefined();
  });
});

describe('R4.3 fixup', () => {
  it('step 1: A in every walked entry and D in the leaf for a write; the retry completes in hardware', () => {
    const k = fp(
      '    write 0x10, 1   ; @w\n    expect read64(0x10) == 1 && tlb_lookup(0) != -1 && !write_protected(4)',
    );
    expect(k.at('@w')).toMatchObject([
      {
        class: 'fixup',
        va: 0x10n,
        access: 'write',
        cpl: 0,
        gfn: 4,
        ad_set: [
          { level: 4, gfn: 0, index: 0, bits: A },
          { level: 3, gfn: 1, index: 0, bits: A },
          { level: 2, gfn: 2, index: 0, bits: A },
          { level: 1, gfn: 3, index: 0, bits: A | D },
        ],
        flags: ['promote', 'wrmap'],
        sl1_index: 0,
      },
    ]);
    expect(k.sentry(3, 'l1', 0)).toBe(leaf(k.mfn(4), P | RW | US | A));
  });

  it('step 9: with the guest’s CR0.WP clear a faulting supervisor write is emulated (wp), even to a read-only page', () => {
    const noWp = [...FP_SETUP.slice(0, -1), '    mov cr0, cr0 | PG'];
    const k = fp(
      [
        '    write 0x0, 5   ; @w1',
        '    expect tlb_lookup(0) == -1 && fault == NOFAULT',
        '    write 0x8, 6   ; @w2',
        '    expect tlb_lookup(0) != -1',
        '    write 0x8008, 7   ; @ro1',
        '    write 0x8010, 8   ; @ro2',
        '    expect read64(0x8008) == 7 && read64(0x8010) == 8',
        '    mode user',
        '    write 0x40_3000 + 0x18, 9   ; @user',
      ].join('\n'),
      noWp,
    );
    expect(k.at('@w1')).toMatchObject([
      {
        class: 'emulate',
        va: 0n,
        gfn: 4,
        offset: 0,
        size: 8,
        value: 5n,
        reason: 'wp',
        validated: [],
        tlb_flush: false,
      },
    ]);
    expect(k.at('@w2')).toEqual([]);
    expect(k.at('@ro1')).toMatchObject([{ class: 'emulate', gfn: 4, offset: 8, reason: 'wp' }]);
    expect(k.at('@ro2')).toMatchObject([{ class: 'emulate', gfn: 4, offset: 16, reason: 'wp' }]);
    // At CPL 3 the guest's WP does not matter: the first write is fixed up, not emulated.
    expect(k.at('@user')).toMatchObject([
      {
        class: 'fixup',
        cpl: 3,
        gfn: 6,
        made: [{ type: 'l1', gfn: 10 }],
        flags: ['promote', 'wrmap'],
        sl1_index: 3,
      },
    ]);
  });
});

describe('R4.4 shadow entry from guest entry', () => {
  it('a leaf keeps P RW US A and NX; G, PWT, PCD and D are not copied', () => {
    const k = fp('    let x = read64(0xb000)');
    expect(k.sentry(3, 'l1', 11)).toBe(leaf(k.mfn(4), P | RW | US | A) | NX);
  });
});

describe('R4.5 prefetch', () => {
  it('not-present guest entries give empty entries and do not stop it; RW set with D clear stops it', () => {
    const k = fp('    let x = read64(0x40_0000)');
    expect(k.sentry(10, 'l1', 1)).toBe(0n);
    expect(k.sentry(10, 'l1', 2)).toBe(leaf(k.mfn(5), P | US | A));
    expect(k.sentry(10, 'l1', 3)).toBe(leaf(k.mfn(6), P | RW | US | A));
    expect(k.sentry(10, 'l1', 5)).toBe(0n);
    expect(k.sentry(10, 'l1', 6)).toBe(0n);
  });

  it('covers at most 31 entries after the demand entry, and stops at entry 511', () => {
    const k = fp('    let x = read64(0x60_0000)\n    x = read64(0x60_0000 + 490 * 0x1000)');
    expect(k.sentry(11, 'l1', 31)).toBe(leaf(k.mfn(4), P | RW | US | A));
    expect(k.sentry(11, 'l1', 32)).toBe(0n);
    expect(k.sentry(11, 'l1', 489)).toBe(0n);
    expect(k.sentry(11, 'l1', 511)).toBe(leaf(k.mfn(4), P | RW | US | A));
  });

  it('a guest entry present with A clear stops it (the shadow entry would not be empty)', () => {
    const k = fp('    let x = read64(0)');
    expect(k.sentry(3, 'l1', 1)).toBe(0n);
    expect(k.gentry(3, 1) & A).toBe(0n);
  });
});

describe('R4.6 what does not trap', () => {
  it('with WP set, a write to an ordinary page takes at most one fixup; later writes complete in hardware', () => {
    const k = fp(
      [
        '    let x = read64(0)',
        '    write 0x20, 1   ; @w1',
        '    write 0x28, 2   ; @w2',
        '    write 0x30, 3   ; @w3',
      ].join('\n'),
    );
    expect(k.at('@w1')).toMatchObject([
      { class: 'fixup', gfn: 4, ad_set: [{ level: 1, gfn: 3, index: 0, bits: D }], flags: [] },
    ]);
    expect(k.at('@w2')).toEqual([]);
    expect(k.at('@w3')).toEqual([]);
  });
});
