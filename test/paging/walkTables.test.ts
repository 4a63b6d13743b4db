import { describe, expect, it } from 'vitest';
import { MachineMemory } from '../../engine/memory/machineMemory';
import { PF_I, PF_P, PF_RSVD, PF_U, PF_W } from '../../engine/paging/pte';
import type { AccessKind, WalkParams } from '../../engine/paging/walkTables';
import { walkTables } from '../../engine/paging/walkTables';
import { toVa48 } from '../../engine/paging/virtualAddress';

const P = 1n;
const RW = 2n;
const US = 4n;
const A = 0x20n;
const D = 0x40n;
const PS = 0x80n;
const G = 0x100n;
const NX = 1n << 63n;

/** Records every entry read, to assert the exact memory accesses of a walk. */
class RecordingMemory extends MachineMemory {
  reads: string[] = [];
  override readLo(mfn: number, index: number): number {
    this.reads.push(`${mfn}:${index}`);
    return super.readLo(mfn, index);
  }
}

const L4 = 10;
const L3 = 11;
const L2 = 12;
const L1 = 13;
const DATA = 20;
// va(1, 2, 3, 4) + 0x123
const VA = (1n << 39n) | (2n << 30n) | (3n << 21n) | (4n << 12n) | 0x123n;

function table(flags: { l4?: bigint; l3?: bigint; l2?: bigint; l1?: bigint } = {}): RecordingMemory {
  const m = new RecordingMemory();
  m.writeEntryBig(L4, 1, (BigInt(L3) << 12n) | (flags.l4 ?? P | RW | US));
  m.writeEntryBig(L3, 2, (BigInt(L2) << 12n) | (flags.l3 ?? P | RW | US));
  m.writeEntryBig(L2, 3, (BigInt(L1) << 12n) | (flags.l2 ?? P | RW | US));
  m.writeEntryBig(L1, 4, (BigInt(DATA) << 12n) | (flags.l1 ?? P | RW | US));
  return m;
}

function walk(memory: MachineMemory, over: Partial<WalkParams> & { access?: AccessKind } = {}) {
  return walkTables({
    memory,
    root: L4,
    va48: toVa48(VA),
    access: 'read',
    user: false,
    wp: true,
    nxe: true,
    allow1G: true,
    maxPhysBits: 46,
    setAD: false,
    ...over,
  });
}

describe('walkTables', () => {
  it('reads exactly the PML4E, PDPTE, PDE and PTE, in that order', () => {
    const m = table();
    const w = walk(m);
    expect(w.ok).toBe(true);
    expect(m.reads).toEqual([`${L4}:1`, `${L3}:2`, `${L2}:3`, `${L1}:4`]);
    expect(w.frame).toBe(DATA);
    expect(w.levels.map((l) => [l.level, l.mfn, l.index])).toEqual([
      [4, L4, 1],
      [3, L3, 2],
      [2, L2, 3],
      [1, L1, 4],
    ]);
  });

  // The SDM's access-rights rules (Vol. 3A §4.6) row by row, with the exact error code.
  const rows: {
    name: string;
    flags: Parameters<typeof table>[0];
    access: AccessKind;
    user: boolean;
    wp?: boolean;
    code: number | null;
  }[] = [
    { name: 'supervisor read of a user page', flags: {}, access: 'read', user: false, code: null },
    {
      name: 'user read of a supervisor page (US clear in L1)',
      flags: { l1: P | RW },
      access: 'read',
      user: true,
      code: PF_P | PF_U,
    },
    {
      name: 'user read with US clear in L4 only',
      flags: { l4: P | RW },
      access: 'read',
      user: true,
      code: PF_P | PF_U,
    },
    {
      name: 'supervisor read of a supervisor page',
      flags: { l1: P | RW },
      access: 'read',
      user: false,
      code: null,
    },
    {
      name: 'user write to a read-only page',
      flags: { l1: P | US },
      access: 'write',
      user: true,
      code: PF_P | PF_W | PF_U,
    },
    {
      name: 'user write with RW clear in L3',
      flags: { l3: P | US },
      access: 'write',
      user: true,
      code: PF_P | PF_W | PF_U,
    },
    {
      name: 'supervisor write to a read-only page, WP=1',
      flags: { l1: P | US },
      access: 'write',
      user: false,
      code: PF_P | PF_W,
    },
    {
      name: 'supervisor write to a read-only page, WP=0',
      flags: { l1: P | US },
      access: 'write',
      user: false,
      wp: false,
      code: null,
    },
    {
      name: 'user write to a read-only page, WP=0',
      flags: { l1: P | US },
      access: 'write',
      user: true,
      wp: false,
      code: PF_P | PF_W | PF_U,
    },
    {
      name: 'fetch from an NX page',
      flags: { l1: P | RW | US | NX },
      access: 'fetch',
      user: false,
      code: PF_P | PF_I,
    },
    {
      name: 'fetch with NX in L3 only',
      flags: { l3: P | RW | US | NX },
      access: 'fetch',
      user: false,
      code: PF_P | PF_I,
    },
    {
      name: 'user fetch from an NX page',
      flags: { l1: P | RW | US | NX },
      access: 'fetch',
      user: true,
      code: PF_P | PF_U | PF_I,
    },
    { name: 'read of an NX page', flags: { l1: P | RW | US | NX }, access: 'read', user: true, code: null },
    { name: 'not-present L1, read', flags: { l1: 0n }, access: 'read', user: false, code: 0 },
    {
      name: 'not-present L2, user write',
      flags: { l2: RW | US },
      access: 'write',
      user: true,
      code: PF_W | PF_U,
    },
    { name: 'not-present L4, fetch', flags: { l4: 0n }, access: 'fetch', user: false, code: PF_I },
    {
      name: 'not-present below a supervisor-only L4, user read',
      flags: { l4: P | RW, l1: 0n },
      access: 'read',
      user: true,
      code: PF_U,
    },
    {
      name: 'PS in L4 is reserved',
      flags: { l4: P | RW | US | PS },
      access: 'read',
      user: false,
      code: PF_P | PF_RSVD,
    },
    {
      name: 'address bit 50 in L1 is reserved (MAXPHYADDR 46)',
      flags: { l1: P | RW | US | (1n << 50n) },
      access: 'write',
      user: true,
      code: PF_P | PF_RSVD | PF_W | PF_U,
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const w = walk(table(row.flags), { access: row.access, user: row.user, wp: row.wp ?? true });
      if (row.code === null) {
        expect(w.ok).toBe(true);
      } else {
        expect(w.ok).toBe(false);
        expect(w.errorCode).toBe(row.code);
      }
    });
  }

  it('NX is a reserved bit while EFER.NXE is clear', () => {
    const w = walk(table({ l1: P | RW | US | NX }), { nxe: false });
    expect(w.errorCode).toBe(PF_P | PF_RSVD);
    expect(w.cause).toBe('reserved');
    expect(w.faultLevel).toBe(1);
  });

  it('maps a 2 MiB page at L2 and adds the 4 KiB page within it', () => {
    const m = table();
    m.writeEntryBig(L2, 3, (0x200n << 12n) | P | RW | US | PS);
    const w = walk(m);
    expect(w.ok).toBe(true);
    expect(w.leafLevel).toBe(2);
    expect(w.pageSize).toBe(2 * 1024 * 1024);
    expect(w.frame).toBe(0x200 + 4);
    expect(m.reads).toHaveLength(3);
  });

  it('ignores PAT (bit 12) in the frame number of a 2 MiB page', () => {
    const m = table();
    m.writeEntryBig(L2, 3, (0x200n << 12n) | 0x1000n | P | RW | US | PS);
    expect(walk(m).frame).toBe(0x200 + 4);
  });

  it('2 MiB page with bits 20:13 set is a reserved-bit fault', () => {
    const m = table();
    m.writeEntryBig(L2, 3, (0x201n << 13n) | P | RW | US | PS);
    const w = walk(m);
    expect(w.errorCode).toBe(PF_P | PF_RSVD);
    expect(w.faultLevel).toBe(2);
  });

  it('maps a 1 GiB page at L3 when allowed, and faults RSVD when not (no 1G under shadow)', () => {
    const m = table();
    m.writeEntryBig(L3, 2, (0x40000n << 12n) | P | RW | US | PS);
    const ok = walk(m);
    expect(ok.ok).toBe(true);
    expect(ok.frame).toBe(0x40000 + 3 * 512 + 4);
    expect(ok.pageSize).toBe(1024 * 1024 * 1024);
    const no = walk(m, { allow1G: false, access: 'write', user: true });
    expect(no.errorCode).toBe(PF_P | PF_RSVD | PF_W | PF_U);
  });

  it('combines rights: RW and US ANDed, NX ORed', () => {
    const w = walk(table({ l3: P | US, l2: P | RW | US | NX }));
    expect(w.ok).toBe(true);
    expect([w.rw, w.us, w.nx]).toEqual([false, true, true]);
  });

  it('sets A at every level and D only in the leaf, on a successful write', () => {
    const m = table();
    const w = walk(m, { access: 'write', setAD: true });
    expect(w.ok).toBe(true);
    expect(m.readEntry(L4, 1) & (A | D)).toBe(A);
    expect(m.readEntry(L3, 2) & (A | D)).toBe(A);
    expect(m.readEntry(L2, 3) & (A | D)).toBe(A);
    expect(m.readEntry(L1, 4) & (A | D)).toBe(A | D);
    expect(w.adSet.map((u) => [u.level, u.bits])).toEqual([
      [4, 0x20],
      [3, 0x20],
      [2, 0x20],
      [1, 0x60],
    ]);
  });

  it('sets D in the L2 entry of a 2 MiB page', () => {
    const m = table();
    m.writeEntryBig(L2, 3, (0x200n << 12n) | P | RW | US | PS);
    walk(m, { access: 'write', setAD: true });
    expect(m.readEntry(L2, 3) & (A | D)).toBe(A | D);
  });

  it('a read sets A but not D', () => {
    const m = table();
    walk(m, { setAD: true });
    expect(m.readEntry(L1, 4) & (A | D)).toBe(A);
  });

  it('a walk that faults sets no A bit anywhere', () => {
    const m = table({ l1: P | US });
    const w = walk(m, { access: 'write', setAD: true });
    expect(w.ok).toBe(false);
    expect(m.readEntry(L4, 1) & A).toBe(0n);
    expect(m.readEntry(L1, 4) & A).toBe(0n);
  });

  it('introspection (setAD false) changes nothing', () => {
    const m = table();
    walk(m, { access: 'write' });
    expect(m.readEntry(L4, 1) & A).toBe(0n);
    expect(m.readEntry(L1, 4) & D).toBe(0n);
  });

  it('reports the G bit of the leaf', () => {
    expect(walk(table({ l1: P | RW | US | G })).global).toBe(true);
    expect(walk(table()).global).toBe(false);
  });

  it('translates table frames through tableMfn and reports unbacked tables', () => {
    const m = table();
    const shifted = walk(m, { root: L4 + 100, tableMfn: (f) => f - 100 });
    expect(shifted.ok).toBe(false); // L3 frame 11 maps to 11-100 < 0: unbacked
    expect(shifted.cause).toBe('unbacked_table');
    expect(shifted.unbackedFrame).toBe(L3);
    expect(shifted.errorCode).toBe(0);
  });
});
