/**
 * Machine memory: 4 KiB frames held sparsely, each a `Uint32Array` of 1024 words (entry i of a
 * table is words 2i (low half) and 2i+1 (high half)). A frame costs memory only once written: a
 * read of a frame never written returns zeros and allocates nothing, so a 64 GiB domain costs
 * nothing until touched.
 *
 * The hot path — reading and writing 64-bit table entries — works on the two 32-bit halves and
 * never allocates or uses BigInt. Byte-granular guest accesses use `readBytes`/`writeBytes`.
 *
 * Checkpoints are copy-on-write at frame granularity: `checkpoint()` copies only the frame map
 * (pointers), and every frame then belongs to an older epoch; the first write to such a frame after
 * the checkpoint copies its 4 KiB. `restore()` puts back the map of the checkpoint and starts a fresh
 * epoch, so neither side can change the other's frames.
 */

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
const WORDS_PER_FRAME = 1024;

interface Frame {
  readonly words: Uint32Array;
  readonly bytes: Uint8Array;
  /** The epoch that owns this copy; frames of an older epoch are shared with a checkpoint. */
  readonly epoch: number;
}

export interface MemorySnapshot {
  readonly frames: ReadonlyMap<number, Frame>;
}

let epochCounter = 0;
const ZERO_WORDS = new Uint32Array(WORDS_PER_FRAME);

export class MachineMemory {
  private frames = new Map<number, Frame>();
  private epoch = ++epochCounter;

  /** Low 32 bits of entry `index` of frame `mfn`. */
  readLo(mfn: number, index: number): number {
    const f = this.frames.get(mfn);
    return f === undefined ? 0 : f.words[index << 1];
  }

  /** High 32 bits of entry `index` of frame `mfn`. */
  readHi(mfn: number, index: number): number {
    const f = this.frames.get(mfn);
    return f === undefined ? 0 : f.words[(index << 1) | 1];
  }

  /** The words of a frame for repeated reads (shared zeros when never written); do not modify. */
  frameWords(mfn: number): Uint32Array {
    const f = this.frames.get(mfn);
    return f === undefined ? ZERO_WORDS : f.words;
  }

  writeEntry(mfn: number, index: number, lo: number, hi: number): void {
    const words = this.writable(mfn).words;
    words[index << 1] = lo;
    words[(index << 1) | 1] = hi;
  }

  /** Sets bits in the low half of an entry (the walker's A/D updates). */
  orLo(mfn: number, index: number, bits: number): void {
    const words = this.writable(mfn).words;
    words[index << 1] = (words[index << 1] | bits) >>> 0;
  }

  readEntry(mfn: number, index: number): bigint {
    return (BigInt(this.readHi(mfn, index)) << 32n) | BigInt(this.readLo(mfn, index));
  }

  writeEntryBig(mfn: number, index: number, value: bigint): void {
    this.writeEntry(mfn, index, Number(value & 0xffffffffn), Number((value >> 32n) & 0xffffffffn));
  }

  /** Little-endian read of `size` bytes (1..8) at `offset` of frame `mfn`; must not cross the frame. */
  readBytes(mfn: number, offset: number, size: number): bigint {
    const f = this.frames.get(mfn);
    if (f === undefined) return 0n;
    let value = 0n;
    for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(f.bytes[offset + i]);
    return value;
  }

  /** Little-endian write of the low `size` bytes of `value` at `offset` of frame `mfn`. */
  writeBytes(mfn: number, offset: number, size: number, value: bigint): void {
    if (size === 8 && (offset & 7) === 0) {
      this.writeEntryBig(mfn, offset >> 3, value);
      return;
    }
    const bytes = this.writable(mfn).bytes;
    let v = value;
    for (let i = 0; i < size; i++) {
      bytes[offset + i] = Number(v & 0xffn);
      v >>= 8n;
    }
  }

  /** Whether the frame has ever been written (it may still hold only zeros). */
  isTouched(mfn: number): boolean {
    return this.frames.has(mfn);
  }

  /** Frames that have been written, in no particular order. */
  touchedFrames(): IterableIterator<number> {
    return this.frames.keys();
  }

  get touchedCount(): number {
    return this.frames.size;
  }

  fillZero(mfn: number): void {
    if (this.frames.has(mfn)) this.writable(mfn).words.fill(0);
  }

  checkpoint(): MemorySnapshot {
    const snapshot = { frames: new Map(this.frames) };
    this.epoch = ++epochCounter;
    return snapshot;
  }

  restore(snapshot: MemorySnapshot): void {
    this.frames = new Map(snapshot.frames);
    this.epoch = ++epochCounter;
  }

  private writable(mfn: number): Frame {
    const f = this.frames.get(mfn);
    if (f !== undefined && f.epoch === this.epoch) return f;
    const buffer = new ArrayBuffer(PAGE_SIZE);
    const words = new Uint32Array(buffer);
    if (f !== undefined) words.set(f.words);
    const frame: Frame = { words, bytes: new Uint8Array(buffer), epoch: this.epoch };
    this.frames.set(mfn, frame);
    return frame;
  }
}
