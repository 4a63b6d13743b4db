/** The refusal check itself must be able to fail: every kind of change it is meant to catch. */
import { describe, expect, it } from 'vitest';
import { PageType } from '../../engine/machine/frameTable';
import { loadPv } from './pvHarness';
import { refusalDiff, takePicture } from './worldPicture';

function world(): ReturnType<typeof loadPv> {
  return loadPv('domain a pv memory=4M\nvcpu a\n    let x = alloc()\nend\n');
}

describe('refusalDiff', () => {
  it('finds nothing when nothing changed', () => {
    const e = world();
    const m = e.machine;
    const before = takePicture(m);
    expect(refusalDiff(m, before, takePicture(m), true)).toBeNull();
  });

  it('finds a count, a pin, a type with count > 0, an M2P entry and a memory change', () => {
    const e = world();
    const m = e.machine;
    const mfn = m.domains[0].pfnToMfn(3);
    const changes: ((ft: typeof m.frameTable) => void)[] = [
      (ft) => ft.setRefCount(mfn, 2),
      (ft) => ft.setPinned(mfn, true),
      (ft) => {
        ft.setTypeCount(mfn, 1);
        ft.setType(mfn, PageType.Writable);
      },
      (ft) => ft.setM2p(mfn, 9n),
      () => m.memory.writeEntry(mfn, 4, 0x1003, 0),
    ];
    for (const change of changes) {
      const before = takePicture(m);
      change(m.frameTable);
      expect(refusalDiff(m, before, takePicture(m))).not.toBeNull();
      m.frameTable.restore(before.frames);
      m.memory.restore(before.memory);
    }
  });

  it("allows R2.5's type residue at count 0 and R2.5a's adjustments only when not exact", () => {
    const e = world();
    const m = e.machine;
    const mfn = m.domains[0].pfnToMfn(3);
    m.memory.writeEntry(mfn, 0, 0x5001, 0);
    const before = takePicture(m);
    m.frameTable.setType(mfn, PageType.L1PageTable);
    m.memory.writeEntry(mfn, 0, 0x5005, 0x100000);
    const after = takePicture(m);
    expect(refusalDiff(m, before, after)).toBeNull();
    expect(refusalDiff(m, before, after, true)).not.toBeNull();
    m.memory.writeEntry(mfn, 0, 0x5003, 0);
    expect(refusalDiff(m, before, takePicture(m))).toMatch(/memory/);
  });
});
