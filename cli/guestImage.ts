/**
 * A guest's physical memory as held by a file: a raw image (physical 0 at file offset 0) or the
 * PT_LOAD segments of an ELF core. Everything is read on demand, one 4 KiB frame at a time, so a
 * dump of many GiB costs only the frames a walk touches. Every read is bounds-checked: a frame the
 * file does not hold completely reads as `null`, never as zeros, so that callers can say *which*
 * address is missing instead of silently walking an empty table.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export const FRAME_SIZE = 4096;

/** The input cannot be used at all (exit 2): unreadable, corrupt or truncated. */
export class InputError extends Error {}

/** Bytes of a file, read by offset. */
export interface ByteSource {
  readonly size: number;
  /** Exactly `length` bytes from `offset`; the caller has checked the bounds. */
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

export class BufferSource implements ByteSource {
  constructor(private readonly bytes: Uint8Array) {}
  get size(): number {
    return this.bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    return this.bytes.subarray(offset, offset + length);
  }
  close(): void {}
}

/** A file read with positioned reads: dumps may be larger than a Node buffer can hold. */
export class FileSource implements ByteSource {
  readonly size: number;
  private fd: number | null;

  constructor(path: string) {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new InputError(
        `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
      );
    }
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      closeSync(fd);
      throw new InputError(`cannot read ${path}: not a regular file`);
    }
    this.fd = fd;
    this.size = stat.size;
  }

  read(offset: number, length: number): Uint8Array {
    if (this.fd === null) throw new Error('FileSource: read after close');
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, out, done, length - done, offset + done);
      if (n === 0) throw new InputError(`the file ended at offset ${hex(offset + done)} while reading`);
      done += n;
    }
    return out;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Physical bytes [start, end) are file bytes [fileOffset, fileOffset + end − start). */
export interface PhysRange {
  readonly start: number;
  readonly end: number;
  readonly fileOffset: number;
}

/** Frames kept in memory at once (32 MiB); a walk revisits few tables, so a plain reset suffices. */
const CACHE_FRAMES = 8192;

export class GuestImage {
  private readonly ranges: PhysRange[];
  private readonly cache = new Map<number, Uint32Array | null>();

  /** `name` is the file as the user named it; `ranges` need not be sorted and may overlap. */
  constructor(
    readonly name: string,
    private readonly source: ByteSource,
    ranges: readonly PhysRange[],
  ) {
    this.ranges = disjoint(ranges);
  }

  static raw(name: string, source: ByteSource): GuestImage {
    return new GuestImage(name, source, [{ start: 0, end: source.size, fileOffset: 0 }]);
  }

  /** The 4 KiB frame as 1024 little-endian words (entry i = words 2i, 2i+1), or null if not held. */
  frameWords(frame: number): Uint32Array | null {
    const cached = this.cache.get(frame);
    if (cached !== undefined) return cached;
    const bytes = this.readPhys(frame * FRAME_SIZE, FRAME_SIZE);
    let words: Uint32Array | null = null;
    if (bytes !== null) {
      // DataView: the file is little-endian whatever the host is.
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      words = new Uint32Array(FRAME_SIZE / 4);
      for (let i = 0; i < words.length; i++) words[i] = view.getUint32(i * 4, true);
    }
    if (this.cache.size >= CACHE_FRAMES) this.cache.clear();
    this.cache.set(frame, words);
    return words;
  }

  /** `length` bytes at physical `pa`, or null unless every byte is held (pieces may span ranges). */
  readPhys(pa: number, length: number): Uint8Array | null {
    const out = new Uint8Array(length);
    let at = pa;
    const end = pa + length;
    while (at < end) {
      const r = this.rangeAt(at);
      if (r === null) return null;
      const n = Math.min(end, r.end) - at;
      out.set(this.source.read(r.fileOffset + (at - r.start), n), at - pa);
      at += n;
    }
    return out;
  }

  /** The file offset holding physical `pa`, or null. */
  fileOffsetOf(pa: number): number | null {
    const r = this.rangeAt(pa);
    return r === null ? null : r.fileOffset + (pa - r.start);
  }

  /** What the image holds, for messages: `physical 0x0-0x3fffff` (the end inclusive). */
  describeHeld(): string {
    const merged: { start: number; end: number }[] = [];
    for (const r of this.ranges) {
      const last = merged[merged.length - 1];
      if (last !== undefined && r.start <= last.end) last.end = Math.max(last.end, r.end);
      else merged.push({ start: r.start, end: r.end });
    }
    if (merged.length === 0) return 'no physical memory';
    const shown = merged.slice(0, 4).map((m) => `${hex(m.start)}-${hex(m.end - 1)}`);
    const more = merged.length > 4 ? ` and ${merged.length - 4} more ranges` : '';
    return `physical ${shown.join(', ')}${more}`;
  }

  close(): void {
    this.source.close();
  }

  private rangeAt(pa: number): PhysRange | null {
    let lo = 0;
    let hi = this.ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.ranges[mid];
      if (pa < r.start) hi = mid - 1;
      else if (pa >= r.end) lo = mid + 1;
      else return r;
    }
    return null;
  }
}

/**
 * Sorted ranges without overlaps: dump-guest-memory -p writes one segment per virtual mapping, so
 * the same physical bytes may be held twice (they are the same bytes); the earlier-starting segment wins.
 */
function disjoint(ranges: readonly PhysRange[]): PhysRange[] {
  const sorted = ranges.filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  const out: PhysRange[] = [];
  let covered = -1;
  for (const r of sorted) {
    if (r.end <= covered) continue;
    const start = Math.max(r.start, covered);
    out.push({ start, end: r.end, fileOffset: r.fileOffset + (start - r.start) });
    covered = r.end;
  }
  return out;
}

/** Lowercase hexadecimal with 0x, as messages and JSON write addresses. */
export function hex(n: number | bigint): string {
  return '0x' + n.toString(16);
}
