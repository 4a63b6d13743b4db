/**
 * Where everything sits in machine memory, fixed at load time and deterministic for a file.
 *
 * - The machine pool is frames 0 … N−1 (`machine memory=`, or the default of guest-language.md).
 *   Domains take disjoint ranges from the top of the pool down, in declaration order, and never
 *   the first 2 MiB (frames 0 … 511), which stay free for the hypervisor's own use.
 * - Within a domain's range the p2m reverses each 2 MiB chunk: pfn 0 is backed by the last frame of
 *   the range's first chunk, and so on. It is never the identity (a range starts at frame 512 or
 *   above), so a program that mixes up a pfn and an mfn shows it at once, and both directions are
 *   O(1) arithmetic: a 64 GiB domain needs no table.
 * - The hypervisor's frames follow the pool (xen-semantics.md R1.4): the M2P, then `l3_ro_mpt`, then
 *   its L2s. Frames no domain owns below N are free; shadow pages are taken from them.
 */
import type { InitialFrameState } from './frameTable';
import { DOMID_XEN, INVALID_M2P_ENTRY, PageType } from './frameTable';

export const MIB = 1024n * 1024n;
const CHUNK = 512;
const TWO_MIB = 2n * MIB;

export interface DomainRange {
  readonly id: number;
  /** First machine frame of the domain's range. */
  readonly start: number;
  /** Number of frames (memory / 4K). */
  readonly frames: number;
}

export class MachineLayout {
  /** N: frames of the machine pool. */
  readonly poolFrames: number;
  /** Entries of the M2P (E) and its frames (K). */
  readonly m2pEntries: number;
  readonly m2pFrames: number;
  /** H: the hypervisor's frames after the pool. */
  readonly hypervisorFrames: number;
  readonly ranges: DomainRange[] = [];

  constructor(poolBytes: bigint, domainFrames: readonly { id: number; frames: number }[]) {
    this.poolFrames = Number(poolBytes / 4096n);
    const mptBytes = Math.ceil((8 * this.poolFrames) / Number(TWO_MIB)) * Number(TWO_MIB);
    this.m2pEntries = mptBytes / 8;
    this.m2pFrames = mptBytes / 4096;
    this.hypervisorFrames = this.m2pFrames + 1 + Math.ceil(this.m2pFrames / 262144);
    let top = this.poolFrames;
    for (const d of domainFrames) {
      top -= d.frames;
      this.ranges.push({ id: d.id, start: Math.max(top, 0), frames: d.frames });
    }
  }

  /** The default machine pool (guest-language.md): max(256M, sum + 64M), rounded up to 2M. */
  static defaultPoolBytes(domainMemory: readonly bigint[]): bigint {
    const sum = domainMemory.reduce((a, b) => a + b, 0n) + 64n * MIB;
    const want = sum > 256n * MIB ? sum : 256n * MIB;
    return ((want + TWO_MIB - 1n) / TWO_MIB) * TWO_MIB;
  }

  /** N + H: frame numbers at or above it do not exist. */
  get frameCount(): number {
    return this.poolFrames + this.hypervisorFrames;
  }

  get m2pBase(): number {
    return this.poolFrames;
  }

  get l3RoMpt(): number {
    return this.poolFrames + this.m2pFrames;
  }

  range(domainId: number): DomainRange {
    const r = this.ranges.find((x) => x.id === domainId);
    if (r === undefined) throw new Error(`no domain ${domainId}`);
    return r;
  }

  /** The mfn backing a domain's pfn (caller checks pfn < frames). */
  pfnToMfn(r: DomainRange, pfn: number): number {
    const chunkStart = pfn - (pfn % CHUNK);
    const size = Math.min(CHUNK, r.frames - chunkStart);
    const within = pfn - chunkStart;
    let offset = size - 1 - within;
    // Reversal maps the middle of the chunk to itself when the range starts low; rotate instead.
    if (r.start + chunkStart + offset === pfn && size > 1) offset = (within + 1) % size;
    return r.start + chunkStart + offset;
  }

  /** The pfn a domain frame backs (inverse of pfnToMfn), or −1 when the frame is not the domain's. */
  mfnToPfn(r: DomainRange, mfn: number): number {
    const rel = mfn - r.start;
    if (rel < 0 || rel >= r.frames) return -1;
    const chunkStart = rel - (rel % CHUNK);
    const size = Math.min(CHUNK, r.frames - chunkStart);
    // Try the reversal first, then the rotation used where reversal would be the identity.
    const reversed = chunkStart + (size - 1 - (rel - chunkStart));
    if (this.pfnToMfn(r, reversed) === mfn) return reversed;
    const rotated = chunkStart + ((rel - chunkStart - 1 + size) % size);
    return this.pfnToMfn(r, rotated) === mfn ? rotated : -1;
  }

  /** The domain that owns a pool frame, or undefined. */
  domainOf(mfn: number): DomainRange | undefined {
    for (const r of this.ranges) if (mfn >= r.start && mfn < r.start + r.frames) return r;
    return undefined;
  }

  /** R1.2 and R1.4: the state every frame starts in (one shared object per domain). */
  initialState(mfn: number): InitialFrameState {
    if (mfn < this.poolFrames) {
      const r = this.domainOf(mfn);
      return r === undefined ? FREE_FRAME : this.domainFrame(r.id);
    }
    if (mfn < this.poolFrames + this.m2pFrames) return M2P_FRAME;
    return FREE_FRAME;
  }

  /** R1.2: a domain frame's M2P entry starts as its pfn; every other frame's is invalid. */
  initialM2p(mfn: number): bigint {
    const r = mfn < this.poolFrames ? this.domainOf(mfn) : undefined;
    return r === undefined ? INVALID_M2P_ENTRY : BigInt(this.mfnToPfn(r, mfn));
  }

  private readonly domainFrames = new Map<number, InitialFrameState>();

  private domainFrame(id: number): InitialFrameState {
    let state = this.domainFrames.get(id);
    if (state === undefined) {
      state = { owner: id, refCount: 1, type: PageType.None, typeCount: 0, validated: false };
      this.domainFrames.set(id, state);
    }
    return state;
  }

  /** Entries of the hypervisor's read-only M2P tables (R1.4), as [mfn, index, value]. */
  *hypervisorTableEntries(): IterableIterator<[number, number, bigint]> {
    const l3 = this.l3RoMpt;
    const gibs = Math.ceil(this.m2pFrames / 262144);
    for (let g = 0; g < gibs; g++)
      yield [l3, g, (BigInt(l3 + 1 + g) << 12n) | 0x1n | 0x4n | 0x20n | (1n << 63n)];
    const chunks = this.m2pFrames / 512;
    for (let c = 0; c < chunks; c++) {
      const l2 = l3 + 1 + Math.floor(c / 512);
      yield [l2, c % 512, (BigInt(this.poolFrames + 512 * c) << 12n) | 0x1n | 0x4n | 0x80n];
    }
  }
}

const FREE_FRAME: InitialFrameState = {
  owner: 0,
  refCount: 0,
  type: PageType.None,
  typeCount: 0,
  validated: false,
};

const M2P_FRAME: InitialFrameState = {
  owner: DOMID_XEN,
  refCount: 1,
  type: PageType.None,
  typeCount: 1,
  validated: true,
};
