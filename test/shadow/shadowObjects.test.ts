/**
 * hvm-paging.md §2 under shadow (which control-register writes trap, paging-mode changes) and §3
 * (shadow objects: types and the fl1 key, shadowed frames, the CR3 update, pinning and L3 pinning,
 * reference counting, lazy creation, `shadow_count()`, the unpaged shadow R3.8 a–f, R3.9). Shadow
 * state and exact events of the tagged lines; the audit runs after every statement.
 */
import { describe, expect, it } from 'vitest';
import { A, D, P, RW, SETUP, US, clean, kit, leaf, prog, std } from './ruleKit';
import type { Kit } from './ruleKit';

function run(body: string, setup: readonly string[], decl?: string): Kit {
  const k = kit(prog(body, decl, [...setup]));
  clean(k);
  return k;
}

/** SETUP with three more L4 frames (gfn 20–22) whose entry 0 names the same L3 (gfn 1). */
const FOUR_L4 = [
  ...SETUP.slice(0, 6),
  ...[20, 21, 22].map((g) => `    write pte_addr(${g}, 0), gpa(1) | P | RW | US`),
  ...SETUP.slice(6),
];

describe('R2 control registers under shadow', () => {
  it('R2.1: a CR0 write of the value it holds runs in hardware; a WP change traps but is no mode change', () => {
    const k = std(
      [
        '    let x = read64(0)',
        '    mov cr0, cr0   ; @same',
        '    mov cr0, cr0 & ~WP   ; @wp',
        '    expect tlb_lookup(0) != -1 && shadow_count() == 4',
      ].join('\n'),
    );
    expect(k.at('@same')).toMatchObject([
      { class: 'cr_write', reg: 0, ok: true, intercepted: false, mode_change: false, tlb_flush: 'none' },
    ]);
    expect(k.at('@wp')).toMatchObject([
      {
        class: 'cr_write',
        reg: 0,
        ok: true,
        intercepted: true,
        mode_change: false,
        shadow_made: null,
        tlb_flush: 'none',
      },
    ]);
  });

  it('R2.1: at CPL 3 mov crN is #GP before any intercept; invlpg is a #GP with no event of its own', () => {
    const k = std(
      [
        '    mode user',
        '    mov cr3, 0   ; @mov',
        '    expect fault == GP && fault_code == 0',
        '    invlpg 0   ; @inv',
        '    expect fault == GP',
      ].join('\n'),
    );
    expect(k.at('@mov')).toMatchObject([
      {
        class: 'cr_write',
        reg: 3,
        ok: false,
        intercepted: false,
        mode_change: false,
        shadow_made: null,
        tlb_flush: 'none',
      },
      { class: 'fault', fault: 'GP', cause: 'privileged', rule: 'R2.1' },
    ]);
    expect(k.at('@inv')).toMatchObject([{ class: 'fault', fault: 'GP', cause: 'privileged' }]);
  });

  it('R2.5: a refused CR0 value is cr_write (ok false) then #GP, and changes nothing', () => {
    const k = std(
      '    mov cr0, cr0 | (1 << 32)   ; @bad\n    expect fault == GP && cr0 & PG && shadow_count() == 1',
    );
    expect(k.at('@bad')).toMatchObject([
      { class: 'cr_write', reg: 0, ok: false, intercepted: true, tlb_flush: 'none' },
      { class: 'fault', fault: 'GP', cause: 'cr_check', rule: 'R2.5' },
    ]);
  });

  it('R2.2: clearing PG is a mode change: the vCPU leaves its top-level shadow, which stays pinned', () => {
    const k = std(
      [
        '    let x = read64(0)',
        '    mov cr0, cr0 & ~PG   ; @off',
        '    expect shadow_count() == 4 && shadowed(0) && tlb_lookup(0) == -1',
        '    mov cr0, cr0 | PG   ; @on',
      ].join('\n'),
    );
    expect(k.at('@off')).toMatchObject([
      {
        class: 'cr_write',
        reg: 0,
        intercepted: true,
        mode_change: true,
        shadow_made: null,
        tlb_flush: 'all',
      },
    ]);
    expect(k.at('@on')).toMatchObject([
      { class: 'cr_write', mode_change: true, shadow_made: null, tlb_flush: 'all' },
    ]);
    expect(k.shadow(0, 'l4')).toMatchObject({ pinned: true, refs: 2 });
  });
});

describe('R3.1–R3.2 types and shadowed frames', () => {
  it('a 2 MiB guest page gets one fl1 keyed by its first gfn; it does not make the frame shadowed', () => {
    const k = std(
      [
        '    write 0x2000 + 8 * 5, 0x20_0000 | P | RW | US | PS | A | D   ; @map',
        '    let x = read64(0xa0_3000)   ; @first',
        '    x = read64(0xa4_0000)   ; @second',
        '    expect shadow_count() == 5 && !shadowed(512) && !shadowed(515) && write_protected(512)',
      ].join('\n'),
    );
    expect(k.at('@first')).toMatchObject([
      { class: 'fixup', gfn: 515, made: [{ type: 'fl1', gfn: 512 }], ad_set: [], flags: [], sl1_index: 3 },
    ]);
    expect(k.at('@second')).toMatchObject([{ class: 'fixup', gfn: 576, made: [], sl1_index: 64 }]);
    const fl1 = k.shadow(512, 'fl1')!;
    expect(k.sentry(2, 'l2', 5)).toBe(leaf(BigInt(fl1.smfn), P | RW | US | A | D));
    // fl1 pieces get full rights less D; prefetch fills 4 … 34 after the demand entry 3.
    expect(k.sentry(512, 'fl1', 3)).toBe(leaf(k.mfn(515), P | RW | US | A));
    expect(k.sentry(512, 'fl1', 34)).toBe(leaf(k.mfn(546), P | RW | US | A));
    expect(k.sentry(512, 'fl1', 35)).toBe(0n);
    expect(k.sentry(512, 'fl1', 2)).toBe(0n);
  });

  it('a frame used at two levels is shadowed as both; an emulated write validates into each (L1 first)', () => {
    const k = std(
      [
        '    let x = read64(0)',
        '    write 0x2000 + 8 * 6, gpa(2) | P | RW | US | A   ; @link',
        '    x = read64(0xc0_0000)   ; @twice',
        '    expect shadowed(2) && shadow_count() == 5 && !out_of_sync(2)',
        '    write 0x2000 + 8 * 7, 0   ; @both',
      ].join('\n'),
    );
    expect(k.at('@twice')).toMatchObject([
      { class: 'fixup', gfn: 3, made: [{ type: 'l1', gfn: 2 }], flags: ['promote'], sl1_index: 0 },
    ]);
    expect(k.live()).toEqual(['l1:2', 'l1:3', 'l2:2', 'l3:1', 'l4:0']);
    expect(k.at('@both')).toMatchObject([
      {
        class: 'emulate',
        gfn: 2,
        validated: [
          { type: 'l1', index: 7, entry: 0n },
          { type: 'l2', index: 7, entry: 0n },
        ],
      },
    ]);
    // The leaf names gfn 3, itself a table: read-only.
    expect(k.sentry(2, 'l1', 0)).toBe(leaf(k.mfn(3), P | US | A));
  });
});

describe('R3.3–R3.4a CR3 update and pinning', () => {
  it('a CR3 write with paging off only records CR3', () => {
    const k = kit(
      'domain g hvm memory=16M\nvcpu g\n    mov cr3, gpa(5)   ; @t\n    expect shadow_count() == 0\nend\n',
    );
    clean(k);
    expect(k.at('@t')).toMatchObject([
      {
        class: 'cr_write',
        reg: 3,
        intercepted: true,
        mode_change: false,
        shadow_made: null,
        tlb_flush: 'none',
      },
    ]);
  });

  it('switching CR3 makes and pins the new L4 shadow, write-protects its frame, and keeps the old one pinned', () => {
    const k = run(
      [
        '    let x = read64(0)',
        '    expect !write_protected(20)',
        '    mov cr3, gpa(20)   ; @to20',
        '    expect write_protected(20) && tlb_lookup(0) == -1 && shadow_count() == 5',
        '    x = read64(0)   ; @read20',
        '    mov cr3, gpa(0)   ; @back',
        '    expect shadow_count() == 5',
      ].join('\n'),
      FOUR_L4,
    );
    expect(k.at('@to20')).toMatchObject([
      { class: 'cr_write', reg: 3, intercepted: true, mode_change: false, shadow_made: 20, tlb_flush: 'all' },
    ]);
    // Under gfn 20 the shared L3 shadow is found, not made: only the L4 entry is written.
    expect(k.at('@read20')).toMatchObject([{ class: 'fixup', gfn: 4, made: [], flags: [] }]);
    expect(k.at('@back')).toMatchObject([{ class: 'cr_write', shadow_made: null, tlb_flush: 'all' }]);
    expect(k.shadow(0, 'l4')).toMatchObject({ pinned: true, refs: 2 });
    expect(k.shadow(20, 'l4')).toMatchObject({ pinned: true, refs: 1 });
    // The shared L3 is pinned once and referenced by both L4 shadows' entries.
    expect(k.shadow(1, 'l3')).toMatchObject({ pinned: true, refs: 3 });
  });

  it('R3.4a: an L3 shadow stays pinned (and its frame shadowed) when the L4 entry naming it is cleared', () => {
    const k = run(
      [
        '    let x = read64(0)',
        '    write 0x4000, 0   ; @clear',
        '    expect shadowed(1) && shadowed(2) && shadowed(3) && shadow_count() == 4 && tlb_lookup(0) == -1',
      ].join('\n'),
      [...SETUP.slice(0, 6), '    write pte_addr(3, 4), gpa(0) | P | RW | US', ...SETUP.slice(6)],
    );
    expect(k.at('@clear')).toMatchObject([
      {
        class: 'emulate',
        gfn: 0,
        offset: 0,
        validated: [{ type: 'l4', index: 0, entry: 0n }],
        tlb_flush: true,
      },
    ]);
    expect(k.shadow(1, 'l3')).toMatchObject({ pinned: true, refs: 1 });
  });

  it('R3.4a: making an L4 shadow while more than 2 × vCPUs are pinned ends L3 pinning for the run', () => {
    const k = run(
      [
        '    let x = read64(0)',
        '    mov cr3, gpa(20)',
        '    x = read64(0)',
        '    mov cr3, gpa(21)',
        '    x = read64(0)',
        '    expect shadow_count() == 6',
        '    mov cr3, gpa(22)   ; @fourth',
        '    x = read64(0)',
        '    expect shadow_count() == 7',
      ].join('\n'),
      FOUR_L4,
    );
    expect(k.at('@fourth')).toMatchObject([{ class: 'cr_write', shadow_made: 22 }]);
    // Unpinned, the shared L3 is held by the four L4 entries only.
    expect(k.shadow(1, 'l3')).toMatchObject({ pinned: false, refs: 4 });
  });
});

describe('R3.5–R3.7 references, lazy creation, shadow_count', () => {
  it('R3.5: replacing an L2 entry drops the L1 shadow it named, which dies; the L2 entry change flushes', () => {
    const k = std(
      [
        '    let x = read64(0)',
        '    write 0x2000, gpa(10) | P | RW | US | A   ; @swap',
        '    expect !shadowed(3) && shadow_count() == 3 && tlb_lookup(0) == -1',
      ].join('\n'),
    );
    expect(k.at('@swap')).toMatchObject([
      {
        class: 'emulate',
        gfn: 2,
        offset: 0,
        validated: [{ type: 'l2', index: 0, entry: 0n }],
        tlb_flush: true,
      },
    ]);
    expect(k.shadow(2, 'l2')).toMatchObject({ pinned: false, refs: 1 });
  });

  it('R3.6: shadow entries of the path hold the next shadow with A and D, P cleared while the guest A is clear', () => {
    const k = std('    let x = read64(0)');
    const l3 = BigInt(k.shadow(1, 'l3')!.smfn);
    const l2 = BigInt(k.shadow(2, 'l2')!.smfn);
    const l1 = BigInt(k.shadow(3, 'l1')!.smfn);
    expect(k.sentry(0, 'l4', 0)).toBe(leaf(l3, P | RW | US | A | D));
    expect(k.sentry(1, 'l3', 0)).toBe(leaf(l2, P | RW | US | A | D));
    expect(k.sentry(2, 'l2', 0)).toBe(leaf(l1, P | RW | US | A | D));
    // A read leaves D clear in the guest entry: the leaf is read-only.
    expect(k.sentry(3, 'l1', 0)).toBe(leaf(k.mfn(4), P | US | A));
  });

  it('R3.6: a write through a present read-only shadow L2 entry of a superpage rewrites it to pick up D', () => {
    const k = std(
      [
        '    write 0x2000 + 8 * 5, 0x20_0000 | P | RW | US | PS | A',
        '    let x = read64(0xa0_0000)',
        '    write 0xa0_0000, 1   ; @w',
        '    expect read64(0x2028) & D',
      ].join('\n'),
    );
    const fl1 = BigInt(k.shadow(512, 'fl1')!.smfn);
    expect(k.at('@w')).toMatchObject([
      { class: 'fixup', gfn: 512, made: [], ad_set: [{ level: 2, gfn: 2, index: 5, bits: D }], flags: [] },
    ]);
    expect(k.sentry(2, 'l2', 5)).toBe(leaf(fl1, P | RW | US | A | D));
  });

  it('R3.7: the unpaged shadows are not counted', () => {
    const k = kit(
      'domain g hvm memory=16M\nvcpu g\n    let x = read64(0x5000)\n    expect shadow_count() == 0\nend\n',
    );
    clean(k);
  });
});

describe('R3.8 the unpaged shadow', () => {
  const off = (body: string) => {
    const k = kit(`domain g hvm memory=16M\nvcpu g\n${body}\nend\n`);
    clean(k);
    return k;
  };

  it('(a, b, f) a first read fills the page and prefetches the rest of 32, not past the 2 MiB block', () => {
    const k = off(
      [
        '    let x = read64(gpa(0x1f0) + 8)   ; @r',
        '    expect !write_protected(0x1f0) && !write_protected(0x1ff) && write_protected(0x200)',
        '    x = read64(gpa(0x1ff))   ; @filled',
        '    x = read64(gpa(0x200))   ; @next',
      ].join('\n'),
    );
    expect(k.at('@r')).toMatchObject([
      {
        class: 'fixup',
        va: 0x1f_0008n,
        access: 'read',
        cpl: 0,
        gfn: 0x1f0,
        made: [],
        ad_set: [],
        flags: [],
        sl1_index: 0x1f0,
      },
    ]);
    expect(k.at('@filled')).toEqual([]);
    expect(k.at('@next')).toMatchObject([{ class: 'fixup', gfn: 0x200, sl1_index: 0 }]);
  });

  it('(e) with the initial CR0.WP clear, a faulting supervisor write is emulated (reason wp); the next one is not', () => {
    const k = off(
      [
        '    write gpa(7), 1   ; @w1',
        '    write gpa(7) + 8, 2   ; @w2',
        '    expect read64(gpa(7) + 8) == 2',
      ].join('\n'),
    );
    expect(k.at('@w1')).toMatchObject([
      {
        class: 'emulate',
        va: 0x7000n,
        gfn: 7,
        offset: 0,
        size: 8,
        value: 1n,
        reason: 'wp',
        validated: [],
        tlb_flush: false,
      },
    ]);
    expect(k.at('@w2')).toEqual([]);
  });

  it('(d) unbacked pages: the slow path, then the magic entry’s fast path; a fetch faults P|I then P|RSVD|I', () => {
    const k = off(
      [
        '    let x = read64(0x4000_0010)   ; @slow',
        '    expect x == -1 && fault == NOFAULT && shadow_count() == 0',
        '    write32 0x4000_0020, 5   ; @fast',
        '    fetch 0x4100_0000   ; @fslow',
        '    expect fault == PF && fault_code == (PF_P | PF_I) && fault_addr == 0x4100_0000',
        '    mode user',
        '    fetch 0x4100_0004   ; @ffast',
        '    expect fault == PF && fault_code == (PF_P | PF_RSVD | PF_I | PF_U)',
      ].join('\n'),
    );
    expect(k.at('@slow')).toMatchObject([
      {
        class: 'mmio',
        va: 0x4000_0010n,
        gpa: 0x4000_0010n,
        size: 8,
        dir: 'read',
        value: 0xffff_ffff_ffff_ffffn,
        fast: false,
      },
    ]);
    expect(k.at('@fast')).toMatchObject([
      { class: 'mmio', gpa: 0x4000_0020n, size: 4, dir: 'write', value: 5n, fast: true },
    ]);
    expect(k.at('@fslow')).toMatchObject([
      { class: 'mmio', dir: 'fetch', value: null, fast: false },
      { class: 'fault', fault: 'PF', cause: 'mmio_fetch', fault_code: 0x11n },
    ]);
    expect(k.at('@ffast')).toMatchObject([
      { class: 'mmio', dir: 'fetch', fast: true },
      { class: 'fault', fault: 'PF', fault_code: 0x1dn },
    ]);
  });

  it('(c) frames shadowed before paging went off stay protected: a kernel write is emulated, a user write unshadows then fixes up', () => {
    const k = std(
      [
        '    let x = read64(0)',
        '    mov cr0, cr0 & ~PG',
        '    expect write_protected(2) && shadowed(2)',
        '    write gpa(2) + 8 * 9, gpa(7) | P   ; @kern',
        '    write32 gpa(3) + 8 * 9, 0   ; @z1',
        '    write32 gpa(3) + 8 * 9 + 4, 0   ; @z2',
        '    expect !shadowed(3)',
        '    mode user',
        '    write gpa(2) + 8 * 9, 0   ; @user',
        '    expect !shadowed(2) && !write_protected(2)',
      ].join('\n'),
    );
    expect(k.at('@kern')).toMatchObject([
      {
        class: 'emulate',
        va: 0x2048n,
        gfn: 2,
        offset: 72,
        reason: 'pt_write',
        validated: [{ type: 'l2', index: 9, entry: 0n }],
      },
    ]);
    // With paging off the entry size is 4: two aligned 4-byte zero writes unshadow early.
    expect(k.at('@z1')).toMatchObject([{ class: 'emulate', gfn: 3, size: 4 }]);
    expect(k.at('@z2')).toMatchObject([
      { class: 'emulate', gfn: 3, size: 4, validated: [] },
      { class: 'unshadow', gfn: 3, reason: 'early', removed: [{ type: 'l1', gfn: 3 }] },
    ]);
    expect(k.at('@user')).toMatchObject([
      { class: 'unshadow', gfn: 2, reason: 'user_mode', removed: [{ type: 'l2', gfn: 2 }] },
      { class: 'fixup', va: 0x2048n, cpl: 3, gfn: 2, flags: [] },
    ]);
  });
});

describe('R3.9 no 1 GiB pages under shadow', () => {
  it('an L3 PS entry is a reserved-bit fault: propagate then #PF with P|RSVD', () => {
    const k = run(
      [
        '    let x = read64(0)',
        '    write 0x3008, gpa(0) | P | RW | PS   ; @ps',
        '    expect shadowed(1) && guest_translate(0x4000_0000) == -1',
        '    x = read64(0x4000_0000)   ; @r',
        '    expect fault == PF && fault_code == (PF_P | PF_RSVD)',
      ].join('\n'),
      [...SETUP.slice(0, 6), '    write pte_addr(3, 3), gpa(1) | P | RW | US', ...SETUP.slice(6)],
    );
    expect(k.at('@ps')).toMatchObject([
      { class: 'emulate', gfn: 1, validated: [{ type: 'l3', index: 1, entry: 0n }] },
    ]);
    expect(k.at('@r')).toMatchObject([
      {
        class: 'propagate',
        va: 0x4000_0000n,
        access: 'read',
        cpl: 0,
        error_code: 9n,
        level: 3,
        reason: 'reserved',
      },
      { class: 'fault', fault: 'PF', cause: 'reserved', fault_code: 9n, rule: 'R4.2' },
    ]);
  });
});
