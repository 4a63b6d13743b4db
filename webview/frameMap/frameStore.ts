/**
 * The frames the map has been sent, in fixed-size chunks of typed arrays, so a million frames cost
 * 4 MB and the map asks only for chunks that scroll into view (and not again while one is in
 * flight).
 */
import type { FramesMessage } from '../protocol';

export const CHUNK = 16384;

export interface FrameInfo {
  mfn: number;
  type: number;
  owner: number;
  flags: number;
}

interface Chunk {
  types: Uint8Array;
  owners: Uint16Array;
  flags: Uint8Array;
}

export class FrameStore {
  private readonly chunks = new Map<number, Chunk>();
  private readonly pending = new Map<number, number>(); // requestId → chunk

  constructor(public totalFrames = 0) {}

  reset(totalFrames: number): void {
    this.totalFrames = totalFrames;
    this.chunks.clear();
    this.pending.clear();
  }

  /** Chunks of `[first, last]` not loaded or requested yet; marks them requested under `nextId()`. */
  missing(
    first: number,
    last: number,
    nextId: () => number,
  ): { requestId: number; start: number; count: number }[] {
    const requests = [];
    const inFlight = new Set(this.pending.values());
    for (let c = Math.floor(first / CHUNK); c * CHUNK <= Math.min(last, this.totalFrames - 1); c++) {
      if (this.chunks.has(c) || inFlight.has(c)) continue;
      const requestId = nextId();
      this.pending.set(requestId, c);
      requests.push({ requestId, start: c * CHUNK, count: Math.min(CHUNK, this.totalFrames - c * CHUNK) });
    }
    return requests;
  }

  /** Stores an answer; answers to requests dropped by `reset` are ignored. Returns whether it was kept. */
  accept(message: FramesMessage): boolean {
    const c = this.pending.get(message.requestId);
    if (c === undefined) return false;
    this.pending.delete(message.requestId);
    const size = Math.min(CHUNK, this.totalFrames - c * CHUNK);
    const chunk: Chunk = {
      types: new Uint8Array(size),
      owners: new Uint16Array(size),
      flags: new Uint8Array(size),
    };
    const offset = message.start - c * CHUNK;
    const n = Math.max(0, Math.min(message.types.length, size - offset));
    chunk.types.set(message.types.subarray(0, n), offset);
    chunk.owners.set(message.owners.subarray(0, n), offset);
    chunk.flags.set(message.flags.subarray(0, n), offset);
    this.chunks.set(c, chunk);
    return true;
  }

  get(mfn: number): FrameInfo | null {
    const chunk = this.chunks.get(Math.floor(mfn / CHUNK));
    if (!chunk || mfn < 0 || mfn >= this.totalFrames) return null;
    const i = mfn % CHUNK;
    return { mfn, type: chunk.types[i]!, owner: chunk.owners[i]!, flags: chunk.flags[i]! };
  }

  /** The chunk holding `mfn`, for the draw loop's fast path. */
  chunkOf(mfn: number): Chunk | undefined {
    return this.chunks.get(Math.floor(mfn / CHUNK));
  }
}
