/**
 * A picture of everything a PV operation may change — the whole frame table (every frame, every
 * field), the M2P, machine memory and every vCPU's base pointers — taken cheaply with the
 * copy-on-write checkpoints of the frame table and memory, and the comparison that §12 of
 * xen-semantics.md allows for a refused operation: nothing changes, except the residue a failed
 * validation leaves (R2.5: a frame whose type count is 0 before and after may have another type and
 * `validated` bit, and a new TLB stamp; R2.5a: accepted present entries may read back adjusted).
 */
import type { FrameChunk, FrameTableSnapshot } from '../../engine/machine/frameTable';
import { FRAME_CHUNK_SIZE, FRAME_FLAG_PINNED } from '../../engine/machine/frameTable';
import type { Machine } from '../../engine/machine/machine';
import type { MemorySnapshot } from '../../engine/memory/machineMemory';
import { existingPvContext } from '../../engine/pv/pvContext';

export interface WorldPicture {
  readonly frames: FrameTableSnapshot;
  readonly memory: MemorySnapshot;
  readonly bases: string;
}

export interface FrameFields {
  owner: number;
  refCount: number;
  type: number;
  typeCount: number;
  validated: boolean;
  pinned: boolean;
}

export function takePicture(machine: Machine): WorldPicture {
  const ctx = existingPvContext(machine);
  const bases =
    ctx === undefined
      ? ''
      : [...ctx.vcpusByDomain.values()]
          .flat()
          .map((v) => `${v.kernelBase}/${v.userBase}/${v.vcpu.state.cr3}`)
          .join();
  return { frames: machine.frameTable.snapshot(), memory: machine.memory.checkpoint(), bases };
}

/** A frame's fields as a picture holds them. */
export function frameIn(machine: Machine, p: WorldPicture, mfn: number): FrameFields {
  const chunk = p.frames.chunks.get(Math.floor(mfn / FRAME_CHUNK_SIZE));
  if (chunk === undefined) {
    const { owner, refCount, type, typeCount, validated } = machine.frameTable.initialState(mfn);
    return { owner, refCount, type, typeCount, validated, pinned: false };
  }
  return fieldsOf(chunk, mfn % FRAME_CHUNK_SIZE);
}

function fieldsOf(c: FrameChunk, i: number): FrameFields {
  return {
    owner: c.owner[i],
    refCount: c.refCount[i],
    type: c.flags[i] & 0x0f,
    typeCount: c.typeCount[i],
    validated: (c.flags[i] & 0x10) !== 0,
    pinned: (c.flags[i] & FRAME_FLAG_PINNED) !== 0,
  };
}

function sameSlot(x: FrameChunk, y: FrameChunk, i: number): boolean {
  return (
    x.owner[i] === y.owner[i] &&
    x.refCount[i] === y.refCount[i] &&
    x.typeCount[i] === y.typeCount[i] &&
    x.flags[i] === y.flags[i]
  );
}

/** Bits R3.8 may add to an accepted present entry (low half: US, G, A; high half: bit 52). */
const ADJUST_LO = 0x4 | 0x100 | 0x20;
const ADJUST_HI = 0x100000;

/**
 * What differs between two pictures beyond what §12 lets a refused operation leave; `null` when
 * nothing does. With `exact`, no residue is allowed at all.
 */
export function refusalDiff(
  machine: Machine,
  before: WorldPicture,
  after: WorldPicture,
  exact = false,
): string | null {
  if (before.bases !== after.bases) return `base pointers changed: ${before.bases} → ${after.bases}`;
  const keys = new Set([...before.frames.chunks.keys(), ...after.frames.chunks.keys()]);
  for (const key of keys) {
    const x = before.frames.chunks.get(key);
    const y = after.frames.chunks.get(key);
    if (x === y) continue;
    const base = key * FRAME_CHUNK_SIZE;
    for (let i = 0; i < FRAME_CHUNK_SIZE && base + i < machine.frameTable.frameCount; i++) {
      if (x !== undefined && y !== undefined && sameSlot(x, y, i)) continue;
      const a = frameIn(machine, before, base + i);
      const b = frameIn(machine, after, base + i);
      const mfn = `mfn 0x${(base + i).toString(16)}`;
      if (
        a.owner !== b.owner ||
        a.refCount !== b.refCount ||
        a.typeCount !== b.typeCount ||
        a.pinned !== b.pinned
      )
        return `${mfn} changed: ${JSON.stringify(a)} → ${JSON.stringify(b)}`;
      if (a.type === b.type && a.validated === b.validated) continue;
      if (exact || a.typeCount !== 0)
        return `${mfn} changed type: ${JSON.stringify(a)} → ${JSON.stringify(b)}`;
    }
  }
  const m2pKeys = new Set([...before.frames.m2p.keys(), ...after.frames.m2p.keys()]);
  for (const k of m2pKeys) {
    if (before.frames.m2p.get(k) !== after.frames.m2p.get(k)) return `M2P entry 0x${k.toString(16)} changed`;
  }
  const frames = new Set([...before.memory.frames.keys(), ...after.memory.frames.keys()]);
  for (const mfn of frames) {
    const x = before.memory.frames.get(mfn)?.words;
    const y = after.memory.frames.get(mfn)?.words;
    if (x === y) continue;
    for (let i = 0; i < 1024; i += 2) {
      const xl = x?.[i] ?? 0;
      const xh = x?.[i + 1] ?? 0;
      const yl = y?.[i] ?? 0;
      const yh = y?.[i + 1] ?? 0;
      if (xl === yl && xh === yh) continue;
      // R2.5a: an accepted present entry keeps the adjustments its validation wrote.
      const adjusted =
        !exact &&
        (xl & 1) === 1 &&
        ((xl ^ yl) & ~ADJUST_LO) === 0 &&
        (yl & xl) === xl &&
        ((xh ^ yh) & ~ADJUST_HI) === 0 &&
        (yh & xh) === xh;
      if (!adjusted) return `memory of mfn 0x${mfn.toString(16)} entry ${i / 2} changed`;
    }
  }
  return null;
}
