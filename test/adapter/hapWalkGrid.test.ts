// The HAP grid's EPT-violation cases, which the adapter fixtures do not reach: a table and a final
// gpa the p2m has no entry for (hvm-paging.md R1.3, R9.1).
import { describe, expect, it } from 'vitest';
import { hapWalkGrid } from '../../debug-adapter/hapWalkGrid';
import { loadEngine } from '../../engine/engine';
import { MAX_PHYS_BITS } from '../../engine/machine/machine';
import { walkTables } from '../../engine/paging/walkTables';

const SOURCE = `domain vm hvm memory=16M paging=hap
vcpu vm
    write 0x1000, 0x2000 | 3
    write 0x2000, 0x40000000 | 3
    write 0x2008, 0x3000 | 3
    write 0x3000, 0x4000 | 3
    write 0x4000, 0x50000000 | 3
end
`;

function gridFor(va: bigint) {
  const { engine } = loadEngine(SOURCE, 'grid.guest');
  if (engine === null) throw new Error('program rejected');
  while (!engine.finished) engine.step();
  const domain = engine.machine.domains[0];
  const walk = walkTables({
    memory: engine.machine.memory,
    root: 1,
    va48: Number(va),
    access: 'read',
    user: false,
    wp: false,
    nxe: true,
    allow1G: true,
    maxPhysBits: MAX_PHYS_BITS,
    tableMfn: (f) => domain.pfnToMfn(f),
    setAD: false,
  });
  return hapWalkGrid(domain, walk, va);
}

describe('hapWalkGrid', () => {
  it('marks a table reference the p2m cannot translate (column 0)', () => {
    const g = gridFor(0x0n);
    expect(g.rows.map((r) => [r.ref, r.gpa, r.ma === null])).toEqual([
      ['gL4', '0x1000', false],
      ['gL3', '0x2000', false],
      ['gL2', '0x40000000', true],
    ]);
    expect(g.failing).toEqual({ row: 2, col: 0 });
  });

  it('marks a final gpa the p2m cannot translate (column 0 of the data row)', () => {
    const g = gridFor(0x4000_0123n);
    expect(g.rows.map((r) => r.ref)).toEqual(['gL4', 'gL3', 'gL2', 'gL1', 'data']);
    expect(g.rows[4]).toEqual({ ref: 'data', gpa: '0x50000123', ma: null, entry: null });
    expect(g.failing).toEqual({ row: 4, col: 0 });
  });
});
