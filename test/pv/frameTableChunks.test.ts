/**
 * `FrameTable.writableChunk` hands the hot paths a chunk's typed arrays to write directly; chunks are
 * shared with checkpoints, so it must copy a shared chunk before handing it out.
 */
import { describe, expect, it } from 'vitest';
import { FRAME_CHUNK_SIZE, FrameTable, PageType } from '../../engine/machine/frameTable';

function table(): FrameTable {
  return new FrameTable(3 * FRAME_CHUNK_SIZE, 3 * FRAME_CHUNK_SIZE, {
    initialState: (mfn) => ({
      owner: mfn < FRAME_CHUNK_SIZE ? 0 : 1,
      refCount: mfn < FRAME_CHUNK_SIZE ? 0 : 1,
      type: PageType.None,
      typeCount: 0,
      validated: false,
    }),
    initialM2p: (mfn) => BigInt(mfn),
  });
}

describe('FrameTable.writableChunk', () => {
  it('starts an untouched chunk from the layout', () => {
    const ft = table();
    const mfn = FRAME_CHUNK_SIZE + 5;
    const chunk = ft.writableChunk(mfn);
    const slot = mfn & (FRAME_CHUNK_SIZE - 1);
    expect([chunk.owner[slot], chunk.refCount[slot]]).toEqual([1, 1]);
    chunk.refCount[slot] = 7;
    expect(ft.refCount(mfn)).toBe(7);
    expect(ft.isChunkTouched(mfn)).toBe(true);
  });

  it('copies a chunk a checkpoint shares before it is written', () => {
    const ft = table();
    const mfn = 2 * FRAME_CHUNK_SIZE + 9;
    const slot = mfn & (FRAME_CHUNK_SIZE - 1);
    ft.setRefCount(mfn, 3);
    const before = ft.snapshot();
    const shared = ft.writableChunk(mfn);
    shared.refCount[slot] = 4;
    shared.owner[slot] = 2;
    expect([ft.refCount(mfn), ft.owner(mfn)]).toEqual([4, 2]);
    // The same epoch hands back the same (now private) chunk: no copy per write.
    expect(ft.writableChunk(mfn)).toBe(shared);
    ft.restore(before);
    expect([ft.refCount(mfn), ft.owner(mfn)]).toEqual([3, 1]);
    // After a restore the checkpoint's chunk is shared again: writing copies it once more.
    ft.writableChunk(mfn).refCount[slot] = 9;
    ft.restore(before);
    expect(ft.refCount(mfn)).toBe(3);
  });

  it('refuses a frame that does not exist', () => {
    expect(() => table().writableChunk(3 * FRAME_CHUNK_SIZE)).toThrow(/does not exist/);
  });
});
