/**
 * Reader for the ELF core that QEMU's `dump-guest-memory` writes (dump/dump.c, target/i386/
 * arch_dump.c): an ELF64 ET_CORE for EM_X86_64 (QEMU picks that class and machine when the first
 * vCPU has EFER.LMA set), one PT_NOTE segment, then one PT_LOAD per guest-physical block whose
 * p_paddr is the guest-physical address and p_offset the file offset of its bytes.
 *
 * The note segment holds, per vCPU in cpu_index order, a `CORE` NT_PRSTATUS note (pr_pid =
 * cpu_index + 1), then per vCPU in the same order a `QEMU` note (type 0) whose descriptor is a
 * QEMUCPUState: version and size (u32 each), 18 general registers (u64), 10 segments of 24 bytes,
 * then cr[0..4] (u64) — so cr[0] is at offset 392 and the structure is at least 432 bytes (later
 * QEMU versions append fields, which are skipped).
 *
 * Every field is bounds-checked; an error names the file offset concerned.
 */
import type { ByteSource, PhysRange } from './guestImage';
import { GuestImage, InputError, hex } from './guestImage';

/** The control registers of one vCPU, from its QEMU note. */
export interface CpuState {
  /** The vCPU's cpu_index (0 for the first); QEMU's NT_PRSTATUS pr_pid is this + 1. */
  readonly index: number;
  readonly cr0: bigint;
  readonly cr3: bigint;
  readonly cr4: bigint;
  /** File offset of the note, for messages. */
  readonly noteOffset: number;
}

export interface ElfCore {
  readonly image: GuestImage;
  readonly cpus: CpuState[];
  /** NT_PRSTATUS notes seen (one per vCPU in a dump QEMU wrote). */
  readonly prstatusCount: number;
}

const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const SHDR_SIZE = 64;
const PT_LOAD = 1;
const PT_NOTE = 4;
const PN_XNUM = 0xffff;
const ET_CORE = 4;
const EM_386 = 3;
const EM_X86_64 = 62;
const NT_PRSTATUS = 1;
const QEMU_CR_OFFSET = 392;
const QEMU_STATE_MIN = QEMU_CR_OFFSET + 5 * 8;
/** More notes than any real dump has vCPUs: a corrupt size could otherwise keep us busy. */
const MAX_NOTES = 1 << 16;

class Reader {
  constructor(
    readonly file: string,
    private readonly source: ByteSource,
  ) {}

  get size(): number {
    return this.source.size;
  }

  /** Bytes [offset, offset + length), or an error naming `what` and where the file ends. */
  bytes(offset: number, length: number, what: string): DataView {
    if (offset + length > this.source.size) {
      throw new InputError(
        `${this.file}: truncated: ${what} at offset ${hex(offset)} needs ${length} bytes but the file ends at ${hex(this.source.size)}`,
      );
    }
    const b = this.source.read(offset, length);
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
}

/** A u64 field that must fit a JS number exactly (file offsets and sizes do, in any real dump). */
function u64(view: DataView, at: number, r: Reader, fieldOffset: number, name: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new InputError(
      `${r.file}: corrupt: ${name} ${hex(v)} at offset ${hex(fieldOffset)} is impossibly large`,
    );
  }
  return Number(v);
}

function checkIdent(r: Reader): void {
  if (r.size < 8) {
    throw new InputError(`${r.file}: not an ELF core: the file has only ${r.size} bytes (offset 0x0)`);
  }
  const view = r.bytes(0, 8, 'the file magic');
  const magic = new Uint8Array(view.buffer, view.byteOffset, 8);
  const text = String.fromCharCode(...magic);
  if (text === 'KDUMP   ') {
    throw new InputError(
      `${r.file}: a kdump-compressed dump (dump-guest-memory -z/-l/-s): pagewalk reads the ELF format (no compression option)`,
    );
  }
  if (text === 'PAGEDU64') {
    throw new InputError(
      `${r.file}: a Windows crash dump (dump-guest-memory -w): pagewalk reads the ELF format`,
    );
  }
  if (magic[0] !== 0x7f || text.slice(1, 4) !== 'ELF') {
    throw new InputError(
      `${r.file}: not an ELF core: bad magic at offset 0x0 (for a raw physical memory image use --image RAW --cr3 X)`,
    );
  }
  if (magic[4] === 1) {
    throw new InputError(
      `${r.file}: a 32-bit ELF core (EI_CLASS 1 at offset 0x4): QEMU writes one when the guest is not in long mode; pagewalk reads x86-64 (4- and 5-level) tables only`,
    );
  }
  if (magic[4] !== 2) throw new InputError(`${r.file}: corrupt: EI_CLASS ${magic[4]} at offset 0x4`);
  if (magic[5] !== 1) {
    throw new InputError(`${r.file}: not a little-endian ELF file (EI_DATA ${magic[5]} at offset 0x5)`);
  }
}

export function readElfCore(file: string, source: ByteSource): ElfCore {
  const r = new Reader(file, source);
  checkIdent(r);
  const eh = r.bytes(0, EHDR_SIZE, 'the ELF header');
  const type = eh.getUint16(16, true);
  if (type !== ET_CORE) throw new InputError(`${file}: not a core file (e_type ${type} at offset 0x10)`);
  const machine = eh.getUint16(18, true);
  if (machine === EM_386) {
    throw new InputError(
      `${file}: e_machine EM_386 at offset 0x12: QEMU wrote this dump while the first vCPU was not in long mode; pagewalk reads x86-64 tables only`,
    );
  }
  if (machine !== EM_X86_64) {
    throw new InputError(`${file}: not an x86-64 core (e_machine ${machine} at offset 0x12)`);
  }
  const phoff = u64(eh, 32, r, 32, 'e_phoff');
  const shoff = u64(eh, 40, r, 40, 'e_shoff');
  const phentsize = eh.getUint16(54, true);
  if (phentsize !== PHDR_SIZE) {
    throw new InputError(
      `${file}: corrupt: e_phentsize ${phentsize} at offset 0x36 (ELF64 needs ${PHDR_SIZE})`,
    );
  }
  let phnum = eh.getUint16(56, true);
  if (phnum === PN_XNUM) {
    // More than 65534 segments: the real count is sh_info of section header 0 (dump.c sets it).
    if (shoff === 0)
      throw new InputError(`${file}: corrupt: e_phnum is PN_XNUM but e_shoff (offset 0x28) is 0`);
    phnum = r.bytes(shoff, SHDR_SIZE, 'section header 0').getUint32(44, true);
  }
  const ph = r.bytes(phoff, phnum * PHDR_SIZE, `the program header table (${phnum} entries)`);

  const ranges: PhysRange[] = [];
  const cpus: CpuState[] = [];
  let prstatusCount = 0;
  for (let i = 0; i < phnum; i++) {
    const at = i * PHDR_SIZE;
    const where = phoff + at;
    const ptype = ph.getUint32(at, true);
    if (ptype !== PT_LOAD && ptype !== PT_NOTE) continue;
    const rawOffset = ph.getBigUint64(at + 8, true);
    const filesz = u64(ph, at + 32, r, where + 32, `p_filesz of program header ${i}`);
    if (ptype === PT_LOAD) {
      // A block left out by dump-guest-memory's begin/length filter has p_offset −1 and no bytes.
      if (filesz === 0) continue;
      const offset = u64(ph, at + 8, r, where + 8, `p_offset of program header ${i}`);
      const paddr = u64(ph, at + 24, r, where + 24, `p_paddr of program header ${i}`);
      const memsz = u64(ph, at + 40, r, where + 40, `p_memsz of program header ${i}`);
      if (filesz > memsz) {
        throw new InputError(
          `${file}: corrupt: PT_LOAD ${i} (program header at ${hex(where)}) has p_filesz ${hex(filesz)} > p_memsz ${hex(memsz)}`,
        );
      }
      if (offset + filesz > r.size) {
        throw new InputError(
          `${file}: truncated: PT_LOAD ${i} (program header at ${hex(where)}) holds physical ${hex(paddr)}-${hex(paddr + filesz - 1)} at file offsets ${hex(offset)}-${hex(offset + filesz - 1)}, but the file ends at ${hex(r.size)}`,
        );
      }
      // Bytes past p_filesz were not written to the file: they are not held, not zeros.
      ranges.push({ start: paddr, end: paddr + filesz, fileOffset: offset });
    } else {
      if (rawOffset === 0xffff_ffff_ffff_ffffn) continue;
      const offset = u64(ph, at + 8, r, where + 8, `p_offset of program header ${i}`);
      const notes = r.bytes(offset, filesz, `the PT_NOTE segment of program header ${i} (${hex(where)})`);
      prstatusCount += readNotes(r, notes, offset, cpus);
    }
  }
  return { image: new GuestImage(file, source, ranges), cpus, prstatusCount };
}

/** Reads every note of a PT_NOTE segment; QEMU notes go to `cpus`. Returns the NT_PRSTATUS count. */
function readNotes(r: Reader, notes: DataView, base: number, cpus: CpuState[]): number {
  let prstatus = 0;
  let at = 0;
  for (let n = 0; at < notes.byteLength && n < MAX_NOTES; n++) {
    if (at + 12 > notes.byteLength) {
      throw new InputError(
        `${r.file}: corrupt: a note header at offset ${hex(base + at)} runs past the end of its PT_NOTE segment (${hex(base + notes.byteLength)})`,
      );
    }
    const namesz = notes.getUint32(at, true);
    const descsz = notes.getUint32(at + 4, true);
    const type = notes.getUint32(at + 8, true);
    const nameAt = at + 12;
    const descAt = nameAt + align4(namesz);
    const next = descAt + align4(descsz);
    if (next > notes.byteLength) {
      throw new InputError(
        `${r.file}: corrupt: the note at offset ${hex(base + at)} (namesz ${namesz}, descsz ${descsz}) runs past the end of its PT_NOTE segment (${hex(base + notes.byteLength)})`,
      );
    }
    const name = noteName(notes, nameAt, namesz);
    if (name === 'CORE' && type === NT_PRSTATUS) prstatus++;
    if (name === 'QEMU' && type === 0) {
      if (descsz < QEMU_STATE_MIN) {
        throw new InputError(
          `${r.file}: corrupt: the QEMU CPU-state note at offset ${hex(base + at)} has descsz ${descsz}, less than the ${QEMU_STATE_MIN} bytes of QEMUCPUState`,
        );
      }
      const cr = descAt + QEMU_CR_OFFSET;
      cpus.push({
        index: cpus.length,
        cr0: notes.getBigUint64(cr, true),
        cr3: notes.getBigUint64(cr + 24, true),
        cr4: notes.getBigUint64(cr + 32, true),
        noteOffset: base + at,
      });
    }
    at = next;
  }
  return prstatus;
}

/** Rounded up to a multiple of 4 — arithmetically: a corrupt u32 size would overflow `& ~3`. */
function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/** The note's name without its terminating NUL. */
function noteName(view: DataView, at: number, size: number): string {
  let s = '';
  for (let i = 0; i < size; i++) {
    const c = view.getUint8(at + i);
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}
