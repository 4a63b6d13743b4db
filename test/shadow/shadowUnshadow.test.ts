/**
 * hvm-paging.md §7, unshadowing: R7.1 (full and fast removal, what they unpin and clear), R7.2 (the
 * user-mode write: the ordinary case, the CR3 crash, the livelock), R7.3 (early unshadow and what
 * clears its memory) and R7.4 (misaligned, cross-page, bad entry). Shadow state and exact events of
 * the tagged lines; the audit runs after every statement.
 */
import { describe, expect, it } from 'vitest';
import { SETUP, clean, kit, prog } from './ruleKit';
import type { Kit } from './ruleKit';

/**
 * SETUP plus: L1 gfn 3 entry 3 maps the L3 (gfn 1) at VA 0x3000, entry 4 the L4 (gfn 0) at VA 0x4000,
 * entry 16 the L1 gfn 10 at VA 0x10000; L2 entry 1 names L1 gfn 10 (VA 0x200000 → data gfn 4).
 */
const U_SETUP = [
  ...SETUP.slice(0, 6),
  '    write pte_addr(3, 3), gpa(1) | P | RW | US',
  '    write pte_addr(3, 4), gpa(0) | P | RW | US',
  '    write pte_addr(3, 16), gpa(10) | P | RW | US',
  '    write pte_addr(2, 1), gpa(10) | P | RW | US',
  '    write pte_addr(10, 0), gpa(4) | P | RW | US | A | D',
  ...SETUP.slice(6),
];

function u(body: string, decl?: string): Kit {
  const k = kit(prog(body, decl, U_SETUP));
  clean(k);
  return k;
}

/** Shadows L3 1, L2 2, L1 3 and L1 10. */
const BUILT = ['    let x = read64(0)', '    x = read64(0x200000)', '    expect shadow_count() == 5'];

describe('R7.1 removal', () => {
  it('a full removal of a linked L3 unpins it and clears the L4 entries naming it; its subtree dies; TLBs flushed', () => {
    const k = u(
      [
        ...BUILT,
        '    write 0x3008, 0x40_0000_0000 | P | RW   ; @bad',
        '    expect !shadowed(1) && !shadowed(2) && !shadowed(3) && !shadowed(10) && shadow_count() == 1',
        '    expect tlb_lookup(0) == -1 && tlb_lookup(0x200000) == -1',
      ].join('\n'),
    );
    expect(k.at('@bad')).toMatchObject([
      { class: 'emulate', gfn: 1, offset: 8, validated: [{ type: 'l3', index: 1, entry: 0n }] },
      {
        class: 'unshadow',
        gfn: 1,
        reason: 'bad_entry',
        removed: [
          { type: 'l3', gfn: 1 },
          { type: 'l2', gfn: 2 },
          { type: 'l1', gfn: 3 },
          { type: 'l1', gfn: 10 },
        ],
      },
    ]);
    expect(k.sentry(0, 'l4', 0)).toBe(0n);
  });

  it('a full removal of the L4 in use as CR3 only unpins it: it stays shadowed while the vCPU runs on it', () => {
    const k = u(
      [
        ...BUILT,
        '    write 0x4008, 0x40_0000_0000 | P | RW   ; @bad',
        '    expect shadowed(0) && shadow_count() == 5',
      ].join('\n'),
    );
    expect(k.at('@bad')).toMatchObject([
      { class: 'emulate', gfn: 0, offset: 8, validated: [{ type: 'l4', index: 1, entry: 0n }] },
      { class: 'unshadow', gfn: 0, reason: 'bad_entry', removed: [] },
    ]);
    expect(k.shadow(0, 'l4')).toMatchObject({ pinned: false, refs: 1 });
  });
});

describe('R7.2 user-mode write to a table', () => {
  it('is never emulated: after the unsync the frame is unshadowed and the write completes in hardware', () => {
    const k = u(
      [
        ...BUILT,
        '    mode user',
        '    write 0x10000, gpa(5) | P | RW | US | A | D   ; @user',
        '    write 0x10008, 5   ; @again',
        '    mode kernel',
        '    expect !shadowed(10) && !out_of_sync(10) && shadow_count() == 4 && read64(0x10000) == gpa(5) | P | RW | US | A | D',
      ].join('\n'),
    );
    expect(k.at('@user')).toMatchObject([
      { class: 'unshadow', gfn: 10, reason: 'user_mode', removed: [{ type: 'l1', gfn: 10 }] },
    ]);
    expect(k.at('@again')).toEqual([]);
  });

  it('to the L4 in use as CR3 crashes the domain after the unshadow (the L4 shadow survives the unpin)', () => {
    const k = kit(
      prog(
        [...BUILT, '    mode user', '    write 0x4000, 0   ; @crash', '    expect 0'].join('\n'),
        undefined,
        U_SETUP,
      ),
    );
    expect(k.at('@crash')).toMatchObject([{ class: 'unshadow', gfn: 0, reason: 'user_mode', removed: [] }]);
    expect(k.r.stderr).toEqual([
      `test.guest:${k.src.split('\n').findIndex((l) => l.includes('@crash')) + 1}:5: runtime error: domain g crashed: user-mode write to page table gfn 0x0 in use as CR3`,
    ]);
  });

  it('to a table on its own walk path stops the vCPU after the first unshadow (Xen livelocks)', () => {
    const k = kit(
      prog(
        [...BUILT, '    mode user', '    write 0x1000, 0   ; @loop', '    expect 0'].join('\n'),
        undefined,
        U_SETUP,
      ),
    );
    expect(k.at('@loop')).toMatchObject([
      { class: 'unshadow', gfn: 3, reason: 'user_mode', removed: [{ type: 'l1', gfn: 3 }] },
    ]);
    expect(k.r.stderr).toEqual([
      `test.guest:${k.src.split('\n').findIndex((l) => l.includes('@loop')) + 1}:5: runtime error: user-mode write to page table gfn 0x3 on its own walk path: Xen would retry it for ever`,
    ]);
    expect(k.r.engine.machine.domain('g')!.crashed).toBeNull();
  });
});

describe('R7.3 early unshadow', () => {
  it('two emulated zero writes in a row unshadow the frame (fast removal) before the second is validated', () => {
    const k = u(
      [
        ...BUILT,
        '    write 0x2048, 0   ; @z1',
        '    write 0x2048, 0   ; @z2',
        '    expect !shadowed(2) && !shadowed(3) && !shadowed(10) && shadow_count() == 2 && tlb_lookup(0) == -1',
      ].join('\n'),
    );
    expect(k.at('@z1')).toMatchObject([
      {
        class: 'emulate',
        gfn: 2,
        offset: 72,
        size: 8,
        value: 0n,
        validated: [{ type: 'l2', index: 9, entry: 0n }],
      },
    ]);
    expect(k.at('@z2')).toMatchObject([
      { class: 'emulate', gfn: 2, validated: [] },
      {
        class: 'unshadow',
        gfn: 2,
        reason: 'early',
        removed: [
          { type: 'l2', gfn: 2 },
          { type: 'l1', gfn: 3 },
          { type: 'l1', gfn: 10 },
        ],
      },
    ]);
  });

  const between = (stmt: string) =>
    u(
      [...BUILT, '    write 0x2048, 0', stmt, '    write 0x2048, 0   ; @z2', '    expect shadowed(2)'].join(
        '\n',
      ),
    );

  it('is forgotten after a fixup', () => {
    expect(between('    x = read64(0x1000)').at('@z2')).toMatchObject([{ class: 'emulate' }]);
  });

  it('is forgotten after a propagate (a guest #PF)', () => {
    expect(between('    x = read64(0x5000)').at('@z2')).toMatchObject([{ class: 'emulate' }]);
  });

  it('is forgotten after an mmio', () => {
    const k = u(
      [
        ...BUILT,
        '    write 0x1028, 0x4000_0000 | P | RW | A | D',
        '    write 0x2048, 0',
        '    x = read64(0x5000)',
        '    write 0x2048, 0   ; @z2',
      ].join('\n'),
    );
    expect(k.r.events.filter((e) => e.class === 'mmio')).toHaveLength(1);
    expect(k.at('@z2')).toMatchObject([{ class: 'emulate' }]);
  });

  it('is forgotten after a non-zero or a short emulated write', () => {
    expect(between('    write 0x2050, 1').at('@z2')).toMatchObject([{ class: 'emulate' }]);
    expect(between('    write16 0x2050, 0').at('@z2')).toMatchObject([{ class: 'emulate' }]);
  });

  it('is not forgotten by a CR3 write, an invlpg, or a zero write not aligned to 8 (which does not check either)', () => {
    for (const stmt of ['    mov cr3, cr3', '    invlpg 0', '    write32 0x2054, 0']) {
      const k = u(
        [
          ...BUILT,
          '    write 0x2048, 0',
          stmt,
          '    write 0x2048, 0   ; @z2',
          '    expect !shadowed(2)',
        ].join('\n'),
      );
      expect(k.at('@z2')).toMatchObject([{ class: 'emulate' }, { class: 'unshadow', reason: 'early' }]);
    }
  });

  it('remembers the last frame only: zero writes alternating between two tables unshadow nothing', () => {
    const k = u(
      [
        ...BUILT,
        '    write 0x2048, 0',
        '    write 0x3010, 0',
        '    write 0x2048, 0   ; @z',
        '    expect shadowed(2) && shadowed(1)',
      ].join('\n'),
    );
    expect(k.at('@z')).toMatchObject([{ class: 'emulate' }]);
  });

  it('a linked L3 pinned by R3.4a is only unpinned and stays shadowed', () => {
    const k = u(
      [
        ...BUILT,
        '    write 0x3008, 0',
        '    write 0x3008, 0   ; @z2',
        '    expect shadowed(1) && shadow_count() == 5',
      ].join('\n'),
    );
    expect(k.at('@z2')).toMatchObject([
      { class: 'emulate', gfn: 1, validated: [{ type: 'l3', index: 1, entry: 0n }] },
      { class: 'unshadow', gfn: 1, reason: 'early', removed: [] },
    ]);
    expect(k.shadow(1, 'l3')).toMatchObject({ pinned: false, refs: 1 });
  });
});

describe('R7.4 other triggers', () => {
  it('misaligned: the frame is unshadowed before the write, which is then validated against nothing', () => {
    const k = u(
      [...BUILT, '    write64 0x2004, 0   ; @mis', '    expect !shadowed(2) && shadowed(1)'].join('\n'),
    );
    expect(k.at('@mis')).toMatchObject([
      { class: 'emulate', gfn: 2, offset: 4, size: 8, validated: [] },
      {
        class: 'unshadow',
        gfn: 2,
        reason: 'misaligned',
        removed: [
          { type: 'l2', gfn: 2 },
          { type: 'l1', gfn: 3 },
          { type: 'l1', gfn: 10 },
        ],
      },
    ]);
  });

  it('cross_page: a write from one table into the next unshadows the second frame too', () => {
    const k = u(
      [
        ...BUILT,
        '    write64 0x2ffc, 0   ; @cross',
        '    expect !shadowed(2) && !shadowed(1) && shadow_count() == 1',
      ].join('\n'),
    );
    expect(k.at('@cross')).toMatchObject([
      { class: 'emulate', va: 0x2ffcn, gfn: 2, offset: 0xffc, size: 8, validated: [] },
      { class: 'unshadow', gfn: 2, reason: 'misaligned' },
      { class: 'unshadow', gfn: 1, reason: 'cross_page', removed: [{ type: 'l3', gfn: 1 }] },
    ]);
  });

  it('cross_page into an unmapped page: the misaligned unshadow of the first frame happens before the #PF', () => {
    const k = u(
      [
        ...BUILT,
        '    write 0x1028, gpa(2) | P | RW | US | A | D',
        '    write64 0x5ffc, 0   ; @cross',
        '    expect fault == PF && fault_addr == 0x6000 && fault_code == (PF_W) && !shadowed(2)',
      ].join('\n'),
    );
    expect(k.at('@cross')).toMatchObject([
      { class: 'unshadow', gfn: 2, reason: 'misaligned' },
      { class: 'fault', fault: 'PF', fault_addr: 0x6000n },
    ]);
  });

  it('bad_entry: an L2 entry naming memory that is not RAM unshadows the L2 after writing an empty entry', () => {
    const k = u(
      [
        ...BUILT,
        '    write 0x2050, 0x40_0000_0000 | P | RW   ; @bad',
        '    expect !shadowed(2) && shadowed(1)',
      ].join('\n'),
    );
    expect(k.at('@bad')).toMatchObject([
      { class: 'emulate', gfn: 2, validated: [{ type: 'l2', index: 10, entry: 0n }] },
      { class: 'unshadow', gfn: 2, reason: 'bad_entry' },
    ]);
  });

  it('bad_entry: an L3 entry with PS naming memory that is not RAM is an error too (validate_gl3e looks the gfn up)', () => {
    const k = u(
      [...BUILT, '    write 0x3008, 0x4000_0000 | P | RW | PS   ; @bad', '    expect !shadowed(1)'].join(
        '\n',
      ),
    );
    expect(k.at('@bad')).toMatchObject([
      { class: 'emulate', gfn: 1, validated: [{ type: 'l3', index: 1, entry: 0n }] },
      { class: 'unshadow', gfn: 1, reason: 'bad_entry' },
    ]);
  });
});
