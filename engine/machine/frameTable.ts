/**
 * The frame table (Xen's `struct page_info` array, xen-semantics.md R1.1): for every machine frame
 * its owner, general reference count, type, type count, validated and pinned bits, and the TLB-clock
 * stamp of R10.4. Held as compact typed arrays in chunks of 4096 frames, created on the first write
 * to a frame of the chunk: a frame whose chunk was never written reads its *initial* state, computed
 * from the machine's layout (a domain's frame: owner, count 1; a free frame: all zero; the M2P's
 * frames: R1.4's fixed values). So a 64 GiB machine costs nothing until its frames change.
 *
 * Checkpoints copy the chunk pointers; a chunk shared with a checkpoint is copied on its first write.
 *
 * The machine-to-phys table (R1.4) lives here too: domain frames start with their pfn, everything
 * else with INVALID_M2P_ENTRY; MMU_MACHPHYS_UPDATE overrides entries.
 */
import type { FrameTypeName } from '../events/eventTypes';

export enum PageType {
  None = 0,
  L1PageTable = 1,
  L2PageTable = 2,
  L3PageTable = 3,
  L4PageTable = 4,
  SegDesc = 5,
  Writable = 7,
}

export const PAGE_TYPE_NAMES: Record<number, FrameTypeName> = {
  0: 'NONE',
  1: 'L1',
  2: 'L2',
  3: 'L3',
  4: 'L4',
  5: 'SEG_DESC',
  7: 'WRITABLE',
};

export const DOMID_XEN = 0x7ff2;
export const INVALID_M2P_ENTRY = 0xffff_ffff_ffff_ffffn;
/** Stamp value of R2.5/R10.4: "never" — the next type change flushes no vCPU. */
export const STAMP_NEVER = -1;

const CHUNK_SHIFT = 12;
const CHUNK_SIZE = 1 << CHUNK_SHIFT;
const FLAG_VALIDATED = 0x10;
const FLAG_PINNED = 0x20;
const TYPE_MASK = 0x0f;

/** A chunk's `flags` byte (`writableChunk`): the type in the low 4 bits, then validated and pinned. */
export const FRAME_FLAGS_TYPE_MASK = TYPE_MASK;
export const FRAME_FLAG_VALIDATED = FLAG_VALIDATED;
export const FRAME_FLAG_PINNED = FLAG_PINNED;

/** The initial state of one frame, as the machine layout defines it (frames of a range share one). */
export interface InitialFrameState {
  readonly owner: number;
  readonly refCount: number;
  readonly type: PageType;
  readonly typeCount: number;
  readonly validated: boolean;
}

/**
 * Where the frame table's initial state comes from. The state and the M2P entry are asked for
 * apart: filling a chunk of 4096 frames needs only the state, which costs no allocation, while an
 * M2P entry is a BigInt worked out from the domain's p2m.
 */
export interface FrameLayout {
  initialState(mfn: number): InitialFrameState;
  initialM2p(mfn: number): bigint;
}

/** Chunk size of the frame table (frames); a frame's slot in its chunk is `mfn & (FRAME_CHUNK_SIZE - 1)`. */
export const FRAME_CHUNK_SIZE = CHUNK_SIZE;

/** One chunk's typed arrays, for hot paths (`writableChunk`). */
export type FrameChunk = Chunk;

interface Chunk {
  readonly owner: Uint16Array;
  readonly refCount: Uint32Array;
  readonly typeCount: Uint32Array;
  /** type (low 4 bits) | validated | pinned */
  readonly flags: Uint8Array;
  readonly stamp: Float64Array;
  readonly epoch: number;
}

export interface FrameTableSnapshot {
  readonly chunks: ReadonlyMap<number, Chunk>;
  readonly m2p: ReadonlyMap<number, bigint>;
}

let epochCounter = 0;

export class FrameTable {
  private chunks = new Map<number, Chunk>();
  private m2pOverrides = new Map<number, bigint>();
  private epoch = ++epochCounter;
  /**
   * The chunk found last: hot loops touch runs of frames of one chunk (a table's entries, a
   * domain's data pages), so most lookups skip the map. Only an existing chunk is cached.
   */
  private lastKey = -1;
  private lastChunk: Chunk | undefined = undefined;

  constructor(
    /** Number of frames that exist (the pool and the hypervisor's frames): N + H of R1.4. */
    readonly frameCount: number,
    /** Entries of the M2P table (E of R1.4); `pfn(M)` of a larger M is INVALID_M2P_ENTRY. */
    readonly m2pEntries: number,
    private readonly layout: FrameLayout,
  ) {}

  isValid(mfn: number): boolean {
    return Number.isInteger(mfn) && mfn >= 0 && mfn < this.frameCount;
  }

  owner(mfn: number): number {
    const c = this.peek(mfn);
    return c === undefined ? this.layout.initialState(mfn).owner : c.owner[mfn & (CHUNK_SIZE - 1)];
  }

  refCount(mfn: number): number {
    const c = this.peek(mfn);
    return c === undefined ? this.layout.initialState(mfn).refCount : c.refCount[mfn & (CHUNK_SIZE - 1)];
  }

  type(mfn: number): PageType {
    const c = this.peek(mfn);
    return c === undefined
      ? this.layout.initialState(mfn).type
      : ((c.flags[mfn & (CHUNK_SIZE - 1)] & TYPE_MASK) as PageType);
  }

  typeName(mfn: number): FrameTypeName {
    return PAGE_TYPE_NAMES[this.type(mfn)];
  }

  typeCount(mfn: number): number {
    const c = this.peek(mfn);
    return c === undefined ? this.layout.initialState(mfn).typeCount : c.typeCount[mfn & (CHUNK_SIZE - 1)];
  }

  validated(mfn: number): boolean {
    const c = this.peek(mfn);
    return c === undefined
      ? this.layout.initialState(mfn).validated
      : (c.flags[mfn & (CHUNK_SIZE - 1)] & FLAG_VALIDATED) !== 0;
  }

  pinned(mfn: number): boolean {
    const c = this.peek(mfn);
    return c === undefined ? false : (c.flags[mfn & (CHUNK_SIZE - 1)] & FLAG_PINNED) !== 0;
  }

  /** TLB-clock stamp (R10.4); 0 initially, STAMP_NEVER after a validation failure reset. */
  stamp(mfn: number): number {
    const c = this.peek(mfn);
    return c === undefined ? 0 : c.stamp[mfn & (CHUNK_SIZE - 1)];
  }

  setOwner(mfn: number, owner: number): void {
    this.chunkFor(mfn).owner[mfn & (CHUNK_SIZE - 1)] = owner;
  }

  setRefCount(mfn: number, count: number): void {
    this.chunkFor(mfn).refCount[mfn & (CHUNK_SIZE - 1)] = count;
  }

  setType(mfn: number, type: PageType): void {
    const c = this.chunkFor(mfn);
    const i = mfn & (CHUNK_SIZE - 1);
    c.flags[i] = (c.flags[i] & ~TYPE_MASK) | type;
  }

  setTypeCount(mfn: number, count: number): void {
    this.chunkFor(mfn).typeCount[mfn & (CHUNK_SIZE - 1)] = count;
  }

  setValidated(mfn: number, on: boolean): void {
    const c = this.chunkFor(mfn);
    const i = mfn & (CHUNK_SIZE - 1);
    c.flags[i] = on ? c.flags[i] | FLAG_VALIDATED : c.flags[i] & ~FLAG_VALIDATED;
  }

  setPinned(mfn: number, on: boolean): void {
    const c = this.chunkFor(mfn);
    const i = mfn & (CHUNK_SIZE - 1);
    c.flags[i] = on ? c.flags[i] | FLAG_PINNED : c.flags[i] & ~FLAG_PINNED;
  }

  setStamp(mfn: number, stamp: number): void {
    this.chunkFor(mfn).stamp[mfn & (CHUNK_SIZE - 1)] = stamp;
  }

  /** M2P entry M (R1.4). */
  m2p(mfn: number): bigint {
    if (!Number.isInteger(mfn) || mfn < 0 || mfn >= this.m2pEntries) return INVALID_M2P_ENTRY;
    const v = this.m2pOverrides.get(mfn);
    if (v !== undefined) return v;
    return mfn < this.frameCount ? this.layout.initialM2p(mfn) : INVALID_M2P_ENTRY;
  }

  setM2p(mfn: number, value: bigint): void {
    this.m2pOverrides.set(mfn, value);
  }

  /** Whether the frame's state differs from its initial one (cli.md's `frames` list). */
  differsFromInitial(mfn: number): boolean {
    const init = this.layout.initialState(mfn);
    return (
      this.owner(mfn) !== init.owner ||
      this.refCount(mfn) !== init.refCount ||
      this.type(mfn) !== init.type ||
      this.typeCount(mfn) !== init.typeCount ||
      this.validated(mfn) !== init.validated ||
      this.pinned(mfn) ||
      this.m2p(mfn) !== this.layout.initialM2p(mfn)
    );
  }

  /** Frames that may differ from their initial state (those in written chunks or with an M2P override). */
  *candidateFrames(): IterableIterator<number> {
    const seen = new Set<number>();
    for (const key of [...this.chunks.keys()].sort((a, b) => a - b)) {
      const base = key << CHUNK_SHIFT;
      for (let i = 0; i < CHUNK_SIZE && base + i < this.frameCount; i++) seen.add(base + i);
    }
    for (const mfn of this.m2pOverrides.keys()) seen.add(mfn);
    yield* [...seen].sort((a, b) => a - b);
  }

  /**
   * Hot paths: the typed arrays of the frame's chunk, made writable (copied first if a checkpoint
   * shares it). The frame's slot is `mfn & (FRAME_CHUNK_SIZE - 1)`; every array may be read and
   * written directly (`flags` as `FRAME_FLAGS_TYPE_MASK | FRAME_FLAG_VALIDATED | FRAME_FLAG_PINNED`)
   * until the next checkpoint. Throws for a frame that does not exist.
   */
  writableChunk(mfn: number): FrameChunk {
    return this.chunkFor(mfn);
  }

  /** Whether the frame's chunk of 4096 frames was ever written (else all of it is in its initial state). */
  isChunkTouched(mfn: number): boolean {
    return this.chunks.has(mfn >>> CHUNK_SHIFT);
  }

  initialState(mfn: number): InitialFrameState {
    return this.layout.initialState(mfn);
  }

  snapshot(): FrameTableSnapshot {
    const s = { chunks: new Map(this.chunks), m2p: new Map(this.m2pOverrides) };
    this.epoch = ++epochCounter;
    return s;
  }

  restore(s: FrameTableSnapshot): void {
    this.chunks = new Map(s.chunks);
    this.m2pOverrides = new Map(s.m2p);
    this.epoch = ++epochCounter;
    this.lastKey = -1;
    this.lastChunk = undefined;
  }

  /** The frame's chunk for reading, or undefined while the chunk is in its initial state. */
  private peek(mfn: number): Chunk | undefined {
    const key = mfn >>> CHUNK_SHIFT;
    if (key === this.lastKey) return this.lastChunk;
    const c = this.chunks.get(key);
    if (c !== undefined) {
      this.lastKey = key;
      this.lastChunk = c;
    }
    return c;
  }

  private chunkFor(mfn: number): Chunk {
    // `mfn >>> 0 === mfn`: an integer in [0, 2^32), cheaper than isValid's Number.isInteger.
    if (mfn >>> 0 !== mfn || mfn >= this.frameCount)
      throw new Error(`frame table: mfn ${mfn} does not exist`);
    const existing = this.peek(mfn);
    if (existing !== undefined && existing.epoch === this.epoch) return existing;
    const key = mfn >>> CHUNK_SHIFT;
    const chunk: Chunk = {
      owner: new Uint16Array(CHUNK_SIZE),
      refCount: new Uint32Array(CHUNK_SIZE),
      typeCount: new Uint32Array(CHUNK_SIZE),
      flags: new Uint8Array(CHUNK_SIZE),
      stamp: new Float64Array(CHUNK_SIZE),
      epoch: this.epoch,
    };
    if (existing !== undefined) {
      chunk.owner.set(existing.owner);
      chunk.refCount.set(existing.refCount);
      chunk.typeCount.set(existing.typeCount);
      chunk.flags.set(existing.flags);
      chunk.stamp.set(existing.stamp);
    } else {
      const base = key << CHUNK_SHIFT;
      for (let i = 0; i < CHUNK_SIZE && base + i < this.frameCount; i++) {
        const init = this.layout.initialState(base + i);
        chunk.owner[i] = init.owner;
        chunk.refCount[i] = init.refCount;
        chunk.typeCount[i] = init.typeCount;
        chunk.flags[i] = init.type | (init.validated ? FLAG_VALIDATED : 0);
      }
    }
    this.chunks.set(key, chunk);
    this.lastKey = key;
    this.lastChunk = chunk;
    return chunk;
  }
}
