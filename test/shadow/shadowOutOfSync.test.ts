/**
 * hvm-paging.md §6, out-of-sync L1s: R6.1 (the first write fault unsyncs, two recorded writable
 * mappings and the evicting third), R6.2 (the 3-slot table with its second chance), R6.3 (staleness),
 * R6.4 (`invlpg`) and R6.5 (resync, each of its seven triggers on its own). Each test asserts the
 * shadow state and the exact events of the tagged lines; the audit runs after every statement.
 */
import { describe, expect, it } from 'vitest';
import { A, D, P, RW, SETUP, US, clean, kit, leaf, maHex, prog } from './ruleKit';
import type { Kit } from './ruleKit';

/**
 * SETUP plus: L1 gfn 3 entries 8–10 map gfn 3 again (A and D set), entries 16–18 map the L1s
 * gfn 10–12 (A, D clear) at VA 0x10000–0x12000; L2 entries 1–3 name those L1s (VA 0x200000,
 * 0x400000, 0x600000), each of whose entry 0 maps data gfn 4.
 */
const OOS_SETUP = [
  ...SETUP.slice(0, 6),
  ...[8, 9, 10].map((i) => `    write pte_addr(3, ${i}), gpa(3) | P | RW | US | A | D`),
  ...[0, 1, 2].map((k) => `    write pte_addr(3, ${16 + k}), gpa(${10 + k}) | P | RW | US`),
  ...[0, 1, 2].map((k) => `    write pte_addr(2, ${1 + k}), gpa(${10 + k}) | P | RW | US`),
  ...[0, 1, 2].map((k) => `    write pte_addr(${10 + k}, 0), gpa(4) | P | RW | US | A | D`),
  '    write pte_addr(3, 3), gpa(1) | P | RW | US | A | D',
  ...SETUP.slice(6),
];

function oos(body: string, decl?: string): Kit {
  const k = kit(prog(body, decl, OOS_SETUP));
  clean(k);
  return k;
}

/** Reads through VA 0 (shadows L3 1, L2 2, L1 3), then unsyncs L1 gfn 3 by rewriting its entry 0. */
const UNSYNC_3 = [
  '    let x = read64(0)',
  '    write 0x1000, gpa(5) | P | RW | US | A | D   ; @unsync',
  '    expect out_of_sync(3) && !write_protected(3) && shadowed(3)',
];

describe('R6.1 sh_unsync', () => {
  it('the first write fault to an L1-only frame unsyncs it; the write is not emulated and not reflected', () => {
    const k = oos(UNSYNC_3.join('\n'));
    expect(k.at('@unsync')).toMatchObject([
      {
        class: 'fixup',
        va: 0x1000n,
        access: 'write',
        cpl: 0,
        gfn: 3,
        made: [],
        ad_set: [{ level: 1, gfn: 3, index: 1, bits: A | D }],
        flags: ['unsync'],
        sl1_index: 1,
      },
    ]);
    // The faulting mapping is writable (the demand write of an OOS target); the entry the guest
    // wrote still maps gfn 4 in the shadow: the write went to guest memory only.
    expect(k.sentry(3, 'l1', 1)).toBe(leaf(k.mfn(3), P | RW | US | A));
    expect(k.sentry(3, 'l1', 0)).toBe(leaf(k.mfn(4), P | RW | US | A) & ~RW);
  });

  it('an L2 frame never goes out of sync: the write is emulated', () => {
    const k = oos('    let x = read64(0)\n    write 0x2000 + 8 * 9, 0   ; @w\n    expect !out_of_sync(2)');
    expect(k.at('@w')).toMatchObject([{ class: 'emulate', gfn: 2, reason: 'pt_write' }]);
  });

  it('no unsync while another vCPU has paging off (oos_active): the L1 write is emulated', () => {
    const k = oos(
      UNSYNC_3.slice(0, 2).join('\n') + '\n    expect !out_of_sync(3)',
      'domain g hvm memory=16M vcpus=2',
    );
    expect(k.at('@unsync')).toMatchObject([
      { class: 'emulate', gfn: 3, offset: 0, reason: 'pt_write', validated: [{ type: 'l1', index: 0 }] },
    ]);
  });

  it('two writable mappings are recorded; a third evicts the oldest RW without a TLB flush (oos_evict)', () => {
    const k = oos(
      [
        '    let x = read64(0)',
        '    write 0x8000, gpa(5) | P | RW | A | D   ; @first',
        '    write 0x9008, gpa(5) | P | RW | A | D   ; @second',
        '    write 0xa010, gpa(5) | P | RW | A | D   ; @third',
        '    expect tlb_lookup(0x8000) != -1',
        '    write 0x8018, 7   ; @stale',
        '    expect read64(0xa018) == 7',
      ].join('\n'),
    );
    const fix = (va: bigint, index: number, flags: string[]) => ({
      class: 'fixup',
      va,
      gfn: 3,
      made: [],
      ad_set: [],
      flags,
      sl1_index: index,
    });
    expect(k.at('@first')).toMatchObject([fix(0x8000n, 8, ['unsync'])]);
    expect(k.at('@second')).toMatchObject([fix(0x9008n, 9, [])]);
    expect(k.at('@third')).toMatchObject([fix(0xa010n, 10, ['oos_evict'])]);
    // The evicted mapping lost RW in the shadow, but its TLB entry stayed writable.
    expect(k.at('@stale')).toEqual([]);
    expect(k.sentry(3, 'l1', 8)).toBe(leaf(k.mfn(3), P | US | A));
    expect(k.sentry(3, 'l1', 9)).toBe(leaf(k.mfn(3), P | RW | US | A));
    expect(k.sentry(3, 'l1', 10)).toBe(leaf(k.mfn(3), P | RW | US | A));
  });

  it('prefetch after the unsync maps the other aliases of the OOS frame read-only', () => {
    const k = oos('    let x = read64(0)\n    write 0x8000, gpa(5) | P | RW | A | D');
    expect(k.sentry(3, 'l1', 8)).toBe(leaf(k.mfn(3), P | RW | US | A));
    expect(k.sentry(3, 'l1', 9)).toBe(leaf(k.mfn(3), P | US | A));
    expect(k.sentry(3, 'l1', 10)).toBe(leaf(k.mfn(3), P | US | A));
  });
});

describe('R6.2 the OOS table', () => {
  /** Shadows the L1s 10–12, then unsyncs 3 (slot 0), 10 (slot 1), 11 (slot 2), 12 (slot 0). */
  const FOUR = [
    '    let x = read64(0)',
    '    x = read64(0x200000)',
    '    x = read64(0x400000)',
    '    x = read64(0x600000)',
    '    write 0x1000, gpa(5) | P | RW | US | A | D',
    '    write 0x10000, gpa(6) | P | RW | A | D',
    '    write 0x11000, gpa(7) | P | RW | A | D',
    '    expect out_of_sync(3) && out_of_sync(10) && out_of_sync(11)',
    '    write 0x12000, gpa(8) | P | RW | A | D   ; @fourth',
  ];

  it('a fourth frame takes its home slot, the occupant moves on and the next slot is resynced (evict)', () => {
    const k = oos(
      [
        ...FOUR,
        '    expect out_of_sync(3) && !out_of_sync(10) && out_of_sync(11) && out_of_sync(12)',
        '    expect write_protected(10) && guest_translate(0x200000) == gpa(6)',
        '    expect tlb_lookup(0x11000) == -1 && tlb_lookup(0x12000) != -1',
        '    mov cr3, cr3   ; @cr3',
      ].join('\n'),
    );
    expect(k.at('@fourth')).toMatchObject([
      { class: 'fixup', gfn: 12, flags: ['unsync'], sl1_index: 18 },
      { class: 'resync', gfn: 10, trigger: 'evict', entries: [0] },
    ]);
    // Resynced from the guest: entry 0 of gfn 10 now maps gfn 6.
    expect(k.sentry(10, 'l1', 0)).toBe(leaf(k.mfn(6), P | RW | A));
    // Slot order after the second chance: 12 (slot 0), 3 (slot 1, with its snapshot), 11 (slot 2).
    expect(k.at('@cr3')).toMatchObject([
      { class: 'cr_write', reg: 3 },
      { class: 'resync', gfn: 12, trigger: 'cr3', entries: [0] },
      { class: 'resync', gfn: 3, trigger: 'cr3', entries: [0] },
      { class: 'resync', gfn: 11, trigger: 'cr3', entries: [0] },
    ]);
  });
});

describe('R6.3 while out of sync', () => {
  it('a present shadow entry keeps the old mapping: translate and the TLB are stale, the guest walk is not', () => {
    const k = oos(
      [
        ...UNSYNC_3,
        '    expect translate(0) == tlb_lookup(0) && translate(0) != -1 && guest_translate(0) == gpa(5)',
        '    write 0x1010, gpa(6) | P | RW | US   ; @nofault',
        '    expect out_of_sync(3)',
      ].join('\n'),
    );
    expect(k.sentry(3, 'l1', 0)).toBe(leaf(k.mfn(4), P | US | A));
    expect(k.at('@nofault')).toEqual([]);
  });
});

describe('R6.4 sh_invlpg', () => {
  it('on an OOS L1 clears that shadow entry (no resync) and drops the TLB entry; the next fault rebuilds it', () => {
    const k = oos(
      [
        ...UNSYNC_3,
        '    invlpg 0   ; @inv',
        '    expect out_of_sync(3) && tlb_lookup(0) == -1 && guest_translate(0) == gpa(5)',
        '    let y = read64(0)   ; @refault',
        '    expect out_of_sync(3)',
        '    mov cr3, cr3   ; @cr3',
      ].join('\n'),
    );
    expect(k.at('@inv')).toMatchObject([
      { class: 'invlpg', va: 0n, oos_entry_cleared: true, full_flush: false },
    ]);
    expect(k.at('@refault')).toMatchObject([
      { class: 'fixup', va: 0n, gfn: 5, made: [], ad_set: [], flags: [], sl1_index: 0 },
    ]);
    expect(k.sentry(3, 'l1', 0)).toBe(leaf(k.mfn(5), P | RW | US | A));
    // The fault updated the snapshot, so the resync finds nothing to rewrite.
    expect(k.at('@cr3')).toMatchObject([{ class: 'cr_write' }, { class: 'resync', gfn: 3, entries: [] }]);
  });

  it('on a synced L1 only drops the TLB entry', () => {
    const k = oos(
      '    let x = read64(0)\n    invlpg 0   ; @inv\n    expect tlb_lookup(0) == -1 && translate(0) != -1',
    );
    expect(k.at('@inv')).toMatchObject([{ class: 'invlpg', oos_entry_cleared: false, full_flush: false }]);
    expect(k.sentry(3, 'l1', 0)).toBe(leaf(k.mfn(4), P | US | A));
  });

  it('in a splintered superpage (fl1) flushes the whole TLB', () => {
    const k = oos(
      [
        '    write 0x2000 + 8 * 5, 0x20_0000 | P | RW | US | PS | A | D',
        '    let x = read64(0xa0_0000 + 0x3000)   ; @sp',
        '    expect shadow_count() == 5 && !shadowed(512) && translate(0xa0_3000) != -1',
        '    x = read64(0)',
        '    invlpg 0xa0_3000   ; @inv',
        '    expect tlb_lookup(0) == -1 && tlb_lookup(0xa0_3000) == -1',
      ].join('\n'),
    );
    expect(k.at('@sp')).toMatchObject([
      { class: 'fixup', gfn: 515, made: [{ type: 'fl1', gfn: 512 }], sl1_index: 3 },
    ]);
    expect(k.at('@inv')).toMatchObject([{ class: 'invlpg', oos_entry_cleared: false, full_flush: true }]);
  });
});

describe('R6.4 with paging off', () => {
  it('the unpaged shadow is made of fl1s: an invlpg in a 4 MiB block it has shadowed flushes everything', () => {
    const k = kit(
      [
        'domain g hvm memory=16M',
        'vcpu g',
        '    let x = read64(0x5000)',
        '    invlpg 0x3f_f000   ; @filled',
        '    invlpg 0x40_0000   ; @empty',
        'end',
        '',
      ].join('\n'),
    );
    clean(k);
    expect(k.at('@filled')).toMatchObject([
      { class: 'invlpg', va: 0x3f_f000n, oos_entry_cleared: false, full_flush: true },
    ]);
    expect(k.at('@empty')).toMatchObject([
      { class: 'invlpg', va: 0x40_0000n, oos_entry_cleared: false, full_flush: false },
    ]);
  });
});

describe('R6.5 resync triggers', () => {
  it('cr3: an intercepted CR3 write resyncs this vCPU’s OOS frames; the rewritten entry follows the guest', () => {
    const k = oos(
      [...UNSYNC_3, '    mov cr3, cr3   ; @t', '    expect !out_of_sync(3) && write_protected(3)'].join('\n'),
    );
    expect(k.at('@t')).toMatchObject([
      { class: 'cr_write', reg: 3, intercepted: true, shadow_made: null, tlb_flush: 'all' },
      { class: 'resync', gfn: 3, trigger: 'cr3', entries: [0] },
    ]);
    expect(k.sentry(3, 'l1', 0)).toBe(leaf(k.mfn(5), P | RW | US | A));
    expect(k.sentry(3, 'l1', 1)).toBe(leaf(k.mfn(3), P | US | A));
  });

  it('mode: a paging-mode change (CR4.PGE) resyncs every OOS frame', () => {
    const k = oos([...UNSYNC_3, '    mov cr4, cr4 | PGE   ; @t', '    expect !out_of_sync(3)'].join('\n'));
    expect(k.at('@t')).toMatchObject([
      {
        class: 'cr_write',
        reg: 4,
        intercepted: true,
        mode_change: true,
        shadow_made: null,
        tlb_flush: 'all',
      },
      { class: 'resync', gfn: 3, trigger: 'mode', entries: [0] },
    ]);
  });

  it('walk: an OOS frame met as an L2 on a fault’s walk is resynced and the walk restarts', () => {
    const k = oos(
      [
        ...UNSYNC_3,
        '    write 0x3008, gpa(3) | P | RW | US | A   ; @link',
        '    write 0x0, gpa(6) | P | RW | US | A | D',
        '    write 0x1040, gpa(7) | P | RW | US | A | D',
        '    let y = read64(0x4000_0000)   ; @t',
        '    expect !out_of_sync(3) && shadowed(3) && shadowed(5) && write_protected(5)',
      ].join('\n'),
    );
    // Linking gfn 3 as an L2 finds no L2 shadow of it: the shadow L3 entry stays empty.
    expect(k.at('@link')).toMatchObject([
      {
        class: 'emulate',
        gfn: 1,
        offset: 8,
        reason: 'pt_write',
        validated: [{ type: 'l3', index: 1, entry: 0n }],
      },
    ]);
    expect(k.at('@t')).toMatchObject([
      {
        class: 'fixup',
        va: 0x4000_0000n,
        gfn: 6,
        made: [
          { type: 'l2', gfn: 3 },
          { type: 'l1', gfn: 5 },
        ],
        ad_set: [],
        flags: ['promote', 'wrmap'],
        sl1_index: 0,
      },
      { class: 'resync', gfn: 3, trigger: 'walk', entries: [8] },
    ]);
    expect(k.live()).toEqual(['l1:3', 'l1:5', 'l2:2', 'l2:3', 'l3:1', 'l4:0']);
  });

  it('promote: another vCPU’s CR3 write makes an L4 shadow of an OOS frame', () => {
    const src = prog(
      [
        '    let x = read64(0)',
        '    for i in 0..30',
        '    end',
        '    mov cr3, gpa(3)   ; @t',
        '    expect !out_of_sync(3) && shadowed(3) && shadow_count() == 5',
        'end',
        'vcpu g.1',
        '    for i in 0..20',
        '    end',
        '    mov cr3, gpa(0)',
        '    mov cr0, cr0 | PG | WP',
        '    write 0x1000, gpa(5) | P | RW | US | A | D   ; @unsync',
        '    expect out_of_sync(3)',
      ].join('\n'),
      'domain g hvm memory=16M vcpus=2',
      OOS_SETUP,
    );
    const k = kit(src);
    clean(k);
    expect(k.at('@unsync')).toMatchObject([{ class: 'fixup', flags: ['unsync'] }]);
    expect(k.at('@t')).toMatchObject([
      { class: 'cr_write', reg: 3, shadow_made: 3, tlb_flush: 'all' },
      { class: 'resync', gfn: 3, trigger: 'promote', entries: [0] },
    ]);
  });

  it('l2_install: pointing a shadow L2 entry at the OOS frame’s L1 shadow resyncs it', () => {
    const k = oos(
      [
        ...UNSYNC_3,
        '    write 0x2000 + 8 * 5, gpa(3) | P | RW | US | A   ; @t',
        '    expect !out_of_sync(3)',
      ].join('\n'),
    );
    const e = k.at('@t');
    expect(e).toMatchObject([
      { class: 'emulate', gfn: 2, offset: 40, validated: [{ type: 'l2', index: 5 }], tlb_flush: false },
      { class: 'resync', gfn: 3, trigger: 'l2_install', entries: [0] },
    ]);
    expect(k.sentry(2, 'l2', 5)).toBe(k.sentry(2, 'l2', 0));
  });

  it('l2_install does not fire for an entry whose guest A is clear (not present in the shadow)', () => {
    const k = oos(
      [
        ...UNSYNC_3,
        '    write 0x2000 + 8 * 5, gpa(3) | P | RW | US   ; @t',
        '    expect out_of_sync(3)',
      ].join('\n'),
    );
    expect(k.at('@t')).toMatchObject([{ class: 'emulate', gfn: 2, validated: [{ type: 'l2', index: 5 }] }]);
  });

  it('new_upper (validation): an L3 entry pointed at an existing L2 shadow resyncs every OOS frame', () => {
    const k = oos(
      [...UNSYNC_3, '    write 0x3008, gpa(2) | P | RW | US | A   ; @t', '    expect !out_of_sync(3)'].join(
        '\n',
      ),
    );
    expect(k.at('@t')).toMatchObject([
      { class: 'emulate', gfn: 1, offset: 8, validated: [{ type: 'l3', index: 1 }], tlb_flush: false },
      { class: 'resync', gfn: 3, trigger: 'new_upper', entries: [0] },
    ]);
    expect(k.sentry(1, 'l3', 1)).toBe(k.sentry(1, 'l3', 0));
  });

  it('new_upper (fault): a fault that writes a shadow L3 entry resyncs every OOS frame after making its shadows', () => {
    const setup = [
      ...OOS_SETUP.slice(0, -2),
      '    write pte_addr(1, 1), gpa(7) | P | RW | US',
      '    write pte_addr(7, 0), gpa(8) | P | RW | US',
      '    write pte_addr(8, 0), gpa(4) | P | RW | US',
      ...OOS_SETUP.slice(-2),
    ];
    const k = kit(
      prog(
        [...UNSYNC_3, '    let y = read64(0x4000_0000)   ; @t', '    expect !out_of_sync(3)'].join('\n'),
        undefined,
        setup,
      ),
    );
    clean(k);
    expect(k.at('@t')).toMatchObject([
      {
        class: 'fixup',
        gfn: 4,
        made: [
          { type: 'l2', gfn: 7 },
          { type: 'l1', gfn: 8 },
        ],
        flags: ['promote', 'wrmap'],
      },
      { class: 'resync', gfn: 3, trigger: 'new_upper', entries: [0] },
    ]);
  });

  it('another vCPU’s OOS frames are updated on a CR3 write but left out of sync (shadow_sync_other_vcpus)', () => {
    const src = prog(
      [
        '    let x = read64(0)',
        '    for i in 0..20',
        '    end',
        '    mov cr3, cr3   ; @t',
        '    expect out_of_sync(3) && !write_protected(3)',
        '    print translate(0)',
        'end',
        'vcpu g.1',
        '    for i in 0..30',
        '    end',
        '    mov cr3, gpa(0)',
        '    mov cr0, cr0 | PG | WP',
        '    write 0x1000, gpa(5) | P | RW | US | A | D   ; @unsync',
      ].join('\n'),
      'domain g hvm memory=16M vcpus=2',
      OOS_SETUP,
    );
    const k = kit(src);
    clean(k);
    expect(k.at('@unsync')).toMatchObject([{ class: 'fixup', vcpu: 1, flags: ['unsync'] }]);
    expect(k.at('@t')).toMatchObject([
      { class: 'cr_write', vcpu: 0, reg: 3, tlb_flush: 'all' },
      { class: 'resync', vcpu: 0, gfn: 3, trigger: 'cr3', entries: [0] },
    ]);
    expect(k.sentry(3, 'l1', 0)).toBe(leaf(k.mfn(5), P | RW | US | A));
    expect(k.r.stdout).toEqual([maHex(k, 5)]);
  });

  it('… unless the frame is reachable only through another vCPU’s tables once L3 pinning is off (sh_safe_not_to_sync)', () => {
    const setup = [
      ...SETUP.slice(0, 6),
      ...[20, 21, 22, 23, 24].map((g) => `    write pte_addr(${g}, 0), gpa(1) | P | RW | US`),
      '    write pte_addr(30, 0), gpa(31) | P | RW | US',
      '    write pte_addr(31, 0), gpa(32) | P | RW | US',
      '    write pte_addr(32, 0), gpa(33) | P | RW | US',
      '    write pte_addr(33, 0), gpa(4) | P | RW | US | A | D',
      '    write pte_addr(33, 1), gpa(33) | P | RW | US',
      ...SETUP.slice(6),
    ];
    const src = prog(
      [
        // Six L4 shadows with two vCPUs: making the sixth ends L3 pinning (R3.4a).
        ...[20, 21, 22, 23, 24, 0].map((g) => `    mov cr3, gpa(${g})`),
        '    for i in 0..15',
        '    end',
        '    mov cr3, cr3   ; @t',
        '    expect out_of_sync(33)',
        'end',
        'vcpu g.1',
        '    for i in 0..30',
        '    end',
        '    mov cr3, gpa(30)',
        '    mov cr0, cr0 | PG | WP',
        '    let x = read64(0)',
        '    write 0x1000, gpa(5) | P | RW | US | A | D   ; @unsync',
      ].join('\n'),
      'domain g hvm memory=16M vcpus=2',
      setup,
    );
    const k = kit(src);
    clean(k);
    expect(k.at('@unsync')).toMatchObject([{ class: 'fixup', vcpu: 1, gfn: 33, flags: ['unsync'] }]);
    expect(k.shadow(31, 'l3')).toMatchObject({ pinned: false, refs: 1 });
    // Left alone: no record, and the shadow entry still maps gfn 4.
    expect(k.at('@t')).toMatchObject([{ class: 'cr_write', vcpu: 0, reg: 3 }]);
    expect(k.sentry(33, 'l1', 0)).toBe(leaf(k.mfn(4), P | RW | US | A));
  });
});
