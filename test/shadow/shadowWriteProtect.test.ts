/**
 * hvm-paging.md §5: removing write access (R5.1, with its TLB flush and `wrmap`), emulation (R5.2),
 * validation of every overlapped entry (R5.3, each bullet) and `write_protected` (R5.4). The L1 cases
 * run in a two-vCPU domain whose second vCPU never turns paging on, so no L1 goes out of sync (R6.1)
 * and writes to L1s are emulated. Shadow state and exact events; the audit runs after every statement.
 */
import { describe, expect, it } from 'vitest';
import { A, P, RW, SETUP, US, clean, kit, leaf, magic, maHex, prog, std } from './ruleKit';

const TWO = 'domain g hvm memory=16M vcpus=2';

describe('R5.1 removing write access', () => {
  it('a data frame mapped writable that becomes a table loses RW everywhere, flushing every TLB (wrmap)', () => {
    const k = std(
      [
        '    write 0x0, gpa(6) | P | RW | US',
        '    expect !write_protected(4) && tlb_lookup(0) != -1',
        '    write 0x2008, gpa(4) | P | RW | US | A',
        '    let x = read64(0x20_0000)   ; @t',
        '    expect write_protected(4) && shadowed(4) && tlb_lookup(0) == -1',
      ].join('\n'),
    );
    expect(k.at('@t')).toMatchObject([
      { class: 'fixup', gfn: 6, made: [{ type: 'l1', gfn: 4 }], flags: ['promote', 'wrmap'], sl1_index: 0 },
    ]);
    expect(k.sentry(3, 'l1', 0)).toBe(leaf(k.mfn(4), P | US | A));
  });

  it('a frame already shadowed and in sync needs nothing: no wrmap, TLB kept', () => {
    const k = std(
      ['    let x = read64(0)', '    x = read64(0x1000)   ; @t', '    expect tlb_lookup(0) != -1'].join('\n'),
    );
    expect(k.at('@t')).toMatchObject([{ class: 'fixup', gfn: 3, made: [], flags: [] }]);
  });
});

describe('R5.2 emulation', () => {
  it('the hypervisor writes guest memory; no TLB entry is filled; fault is NOFAULT', () => {
    const k = std(
      [
        '    let x = read64(0)',
        '    write32 0x2000 + 8 * 9 + 4, 0x8000_0000   ; @w',
        '    expect fault == NOFAULT && tlb_lookup(0x2000) == -1 && read64(0x2048) == 0x8000_0000_0000_0000',
      ].join('\n'),
    );
    expect(k.at('@w')).toMatchObject([
      {
        class: 'emulate',
        va: 0x204cn,
        gfn: 2,
        offset: 0x4c,
        size: 4,
        value: 0x8000_0000n,
        reason: 'pt_write',
        validated: [{ type: 'l2', index: 9, entry: 0n }],
        tlb_flush: false,
      },
    ]);
  });
});

describe('R5.3 validation', () => {
  it('an L1 entry is propagated to its mfn: writable data, read-only table, P cleared while A is clear, magic for MMIO', () => {
    const k = kit(
      prog(
        [
          '    let x = read64(0)',
          '    write 0x1000 + 8 * 12, gpa(5) | P | RW | US | A | D   ; @data',
          '    write 0x1000 + 8 * 13, gpa(2) | P | RW | US | A | D   ; @table',
          '    write 0x1000 + 8 * 14, gpa(5) | P | RW | US   ; @noa',
          '    write 0x1000 + 8 * 15, 0x4000_0000 | P | RW   ; @mmio',
          '    expect !out_of_sync(3)',
        ].join('\n'),
        TWO,
      ),
    );
    clean(k);
    const one = (index: number, entry: bigint) => [
      {
        class: 'emulate',
        gfn: 3,
        offset: index * 8,
        validated: [{ type: 'l1', index, entry }],
        tlb_flush: false,
      },
    ];
    expect(k.at('@data')).toMatchObject(one(12, leaf(k.mfn(5), P | RW | US | A)));
    expect(k.at('@table')).toMatchObject(one(13, leaf(k.mfn(2), P | US | A)));
    expect(k.at('@noa')).toMatchObject(one(14, leaf(k.mfn(5), US)));
    expect(k.at('@mmio')).toMatchObject(one(15, magic(0x40000n, RW)));
    expect(k.sentry(3, 'l1', 12)).toBe(leaf(k.mfn(5), P | RW | US | A));
  });

  it('an L1 change never flushes: the TLB keeps the old translation while translate sees the new one', () => {
    const k = kit(
      prog(
        [
          '    let x = read64(0)',
          '    write 0x1000, gpa(5) | P | RW | US | A   ; @w',
          '    print tlb_lookup(0), translate(0)',
          '    x = read64(0)   ; @hit',
        ].join('\n'),
        TWO,
      ),
    );
    clean(k);
    expect(k.at('@w')).toMatchObject([
      { class: 'emulate', gfn: 3, validated: [{ type: 'l1', index: 0 }], tlb_flush: false },
    ]);
    expect(k.r.stdout).toEqual([`${maHex(k, 4)} ${maHex(k, 5)}`]);
    expect(k.at('@hit')).toEqual([]);
  });

  it('an upper entry that loses rights or changes frame flushes every TLB; one that only adds rights does not', () => {
    const k = std(
      [
        '    let x = read64(0)',
        '    write 0x2000, gpa(3) | P | RW | US | A | NX   ; @less',
        '    expect tlb_lookup(0) == -1',
        '    x = read64(0)',
        '    write 0x2000, gpa(3) | P | RW | US | A   ; @more',
        '    expect tlb_lookup(0) != -1',
        '    write 0x2000, gpa(10) | P | RW | US | A   ; @other',
        '    expect tlb_lookup(0) == -1 && !shadowed(3)',
      ].join('\n'),
    );
    const NX = 1n << 63n;
    expect(k.at('@less')).toMatchObject([
      { class: 'emulate', gfn: 2, validated: [{ type: 'l2', index: 0 }], tlb_flush: true },
    ]);
    const less = (k.at('@less')[0] as unknown as { validated: { entry: bigint }[] }).validated[0].entry;
    expect(less & (NX | 0xfffn)).toBe(NX | P | RW | US | A | 0x40n);
    expect(k.at('@more')).toMatchObject([
      {
        class: 'emulate',
        gfn: 2,
        validated: [{ type: 'l2', index: 0, entry: less & ~NX }],
        tlb_flush: false,
      },
    ]);
    expect(k.at('@other')).toMatchObject([
      { class: 'emulate', gfn: 2, validated: [{ type: 'l2', index: 0, entry: 0n }], tlb_flush: true },
    ]);
  });

  it('a guest fault stopped by a right missing in an upper entry reports that level', () => {
    const k = std(
      [
        '    let x = read64(0)',
        '    write 0x2000, gpa(3) | P | US | A',
        '    write 0x0, 1   ; @ro',
        '    expect fault == PF && fault_code == (PF_P | PF_W)',
      ].join('\n'),
    );
    expect(k.at('@ro')).toMatchObject([
      { class: 'propagate', error_code: 3n, level: 2, reason: 'protection' },
      { class: 'fault', cause: 'protection', level: 2, entry: { gfn: 2, index: 0 } },
    ]);
  });

  it('an L2 entry points at the named frame’s existing L1 shadow, else stays empty for the next fault', () => {
    const k = std(
      [
        '    write 0x0, gpa(6) | P | RW | US',
        '    write 0x2008, gpa(3) | P | RW | US | A   ; @shared',
        '    let x = read64(0x20_0000)   ; @through',
        '    expect translate(0x20_0000) == translate(0)',
        '    write 0x2010, gpa(4) | P | RW | US | A   ; @none',
        '    x = read64(0x40_0000)   ; @build',
      ].join('\n'),
    );
    const l1 = BigInt(k.shadow(3, 'l1')!.smfn);
    expect(k.at('@shared')).toMatchObject([
      { class: 'emulate', validated: [{ type: 'l2', index: 1, entry: leaf(l1, P | RW | US | A | 0x40n) }] },
    ]);
    // The shared L1 shadow already maps entry 0: the hardware walk succeeds, nothing traps.
    expect(k.at('@through')).toEqual([]);
    expect(k.at('@none')).toMatchObject([
      { class: 'emulate', validated: [{ type: 'l2', index: 2, entry: 0n }] },
    ]);
    expect(k.at('@build')).toMatchObject([
      { class: 'fixup', gfn: 6, made: [{ type: 'l1', gfn: 4 }], flags: ['promote', 'wrmap'], sl1_index: 0 },
    ]);
  });
});

describe('R5.3 validation of an out-of-sync L1', () => {
  it('with CR0.WP clear the unsyncing write is emulated (wp): validated into the OOS L1 and its snapshot', () => {
    const k = kit(
      prog(
        [
          '    let x = read64(0)',
          '    write 0x1000, gpa(5) | P | RW | US | A | D   ; @w',
          '    expect out_of_sync(3) && guest_translate(0) == gpa(5)',
          '    mov cr3, cr3   ; @cr3',
        ].join('\n'),
        undefined,
        [...SETUP.slice(0, -1), '    mov cr0, cr0 | PG'],
      ),
    );
    clean(k);
    expect(k.at('@w')).toMatchObject([
      {
        class: 'emulate',
        gfn: 3,
        offset: 0,
        reason: 'wp',
        validated: [{ type: 'l1', index: 0, entry: leaf(k.mfn(5), P | RW | US | A) }],
      },
    ]);
    // The snapshot took the validated entry, so the resync has nothing to rewrite.
    expect(k.at('@cr3')).toMatchObject([
      { class: 'cr_write' },
      { class: 'resync', gfn: 3, trigger: 'cr3', entries: [] },
    ]);
  });
});

describe('R5.4 write_protected', () => {
  it('is vacuously 1, 0 for a frame written with paging off, 1 for a shadowed frame with paging off too', () => {
    const k = std(
      [
        '    expect write_protected(40) && !write_protected(4)',
        '    let x = read64(0)',
        '    mov cr0, cr0 & ~PG',
        '    expect write_protected(3) && write_protected(2) && write_protected(1) && write_protected(0)',
      ].join('\n'),
    );
    void k;
  });
});
