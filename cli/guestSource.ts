/**
 * The options `mappings` and `walk` share — where the guest's memory comes from and which tables
 * to read — and opening them: `--dump FILE` (an ELF core from dump-guest-memory; CR3, CR0 and CR4
 * from the vCPU's QEMU note, `--cpu N` picking the vCPU) or `--image RAW --cr3 X` (physical 0 at
 * file offset 0). `--cr3` overrides the note; `--la57` forces 5-level paging.
 */
import { readElfCore } from './elfCore';
import type { ByteSource } from './guestImage';
import { FRAME_SIZE, FileSource, GuestImage, InputError, hex } from './guestImage';
import type { PagingLevels } from './mappingTree';

/** A problem with the command line or the input, and the exit code it gives. */
export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

export interface GuestOptions {
  dump: string | null;
  image: string | null;
  cr3: bigint | null;
  cpu: number | null;
  la57: boolean;
}

export function emptyGuestOptions(): GuestOptions {
  return { dump: null, image: null, cr3: null, cpu: null, la57: false };
}

/** Consumes the shared option at args[i] if it is one; returns the index of its last word, or -1. */
export function takeGuestOption(args: readonly string[], i: number, o: GuestOptions): number {
  const a = args[i];
  const name = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
  if (name === '--la57' && name === a) {
    o.la57 = true;
    return i;
  }
  if (name !== '--dump' && name !== '--image' && name !== '--cr3' && name !== '--cpu') return -1;
  const inline = a.includes('=');
  const value = inline ? a.slice(a.indexOf('=') + 1) : args[i + 1];
  if (value === undefined || value === '') throw new CliError(2, `${name} needs a value`);
  if (name === '--dump') o.dump = value;
  else if (name === '--image') o.image = value;
  else if (name === '--cr3') o.cr3 = parseAddress(value, '--cr3');
  else {
    if (!/^\d+$/.test(value)) throw new CliError(2, `--cpu needs a vCPU index (0, 1, …), got '${value}'`);
    o.cpu = Number(value);
  }
  return inline ? i : i + 1;
}

/** A 64-bit address: 0x-prefixed hexadecimal or decimal. */
export function parseAddress(text: string, what: string): bigint {
  const t = text.replace(/_/g, '');
  if (!/^(0[xX][0-9a-fA-F]+|\d+)$/.test(t)) {
    throw new CliError(2, `${what} needs an address (0x-prefixed hexadecimal or decimal), got '${text}'`);
  }
  const v = BigInt(t);
  if (v >= 1n << 64n) throw new CliError(2, `${what} ${text} does not fit in 64 bits`);
  return v;
}

export interface Guest {
  readonly image: GuestImage;
  readonly cr3: bigint;
  /** Physical address of the top table: CR3 & 0x3fffffffff000, as QEMU masks it. */
  readonly root: number;
  readonly levels: PagingLevels;
  /** False when the vCPU's CR0.PG is clear (and no --cr3 asked for a walk anyway). */
  readonly paging: boolean;
  /** The vCPU whose note gave the registers, or null (raw image, or no note). */
  readonly cpu: number | null;
}

const CR0_PG = 1n << 31n;
const CR4_PAE = 1n << 5n;
const CR4_LA57 = 1n << 12n;

/** Command-line misuse of the shared options (exit 2), found before any file is opened. */
export function checkGuestOptions(o: GuestOptions): void {
  if (o.dump !== null && o.image !== null)
    throw new CliError(2, 'give either --dump FILE or --image RAW, not both');
  if (o.dump === null && o.image === null) throw new CliError(2, 'needs --dump FILE or --image RAW --cr3 X');
  if (o.image !== null && o.cr3 === null)
    throw new CliError(2, '--image needs --cr3 X (a raw image has no CPU state)');
  if (o.image !== null && o.cpu !== null)
    throw new CliError(2, '--cpu needs --dump (a raw image has no CPU state)');
}

/** Opens the guest named by the options; every failure is a CliError with exit code 2. */
export function openGuest(o: GuestOptions, open: (path: string) => ByteSource = openFile): Guest {
  checkGuestOptions(o);
  try {
    if (o.image !== null) {
      const image = GuestImage.raw(o.image, open(o.image));
      return checkRoot(image, o.cr3 as bigint, o.la57 ? 5 : 4, true, null);
    }
    const path = o.dump as string;
    const source = open(path);
    let core;
    try {
      core = readElfCore(path, source);
    } catch (e) {
      source.close();
      throw e;
    }
    const { image, cpus } = core;
    const index = o.cpu ?? 0;
    const cpu = cpus[index];
    if (cpu === undefined && (o.cpu !== null || o.cr3 === null)) {
      image.close();
      if (cpus.length === 0) {
        throw new InputError(
          `${path} has no QEMU CPU-state note (name QEMU, type 0) to read CR3 from; give --cr3 X`,
        );
      }
      throw new InputError(
        `${path} has CPU-state notes for vCPUs 0-${cpus.length - 1}, not for vCPU ${index}`,
      );
    }
    const la57 = o.la57 || (cpu !== undefined && (cpu.cr4 & CR4_LA57) !== 0n);
    if (o.cr3 !== null || cpu === undefined) {
      return checkRoot(image, o.cr3 ?? 0n, la57 ? 5 : 4, true, cpu?.index ?? null);
    }
    if ((cpu.cr0 & CR0_PG) === 0n) return checkRoot(image, cpu.cr3, la57 ? 5 : 4, false, cpu.index);
    if ((cpu.cr4 & CR4_PAE) === 0n) {
      image.close();
      throw new InputError(
        `vCPU ${cpu.index} of ${path} uses 32-bit paging (CR4 ${hex(cpu.cr4)} has PAE clear; note at offset ${hex(cpu.noteOffset)}): pagewalk reads x86-64 tables only`,
      );
    }
    return checkRoot(image, cpu.cr3, la57 ? 5 : 4, true, cpu.index);
  } catch (e) {
    if (e instanceof InputError) throw new CliError(2, e.message);
    throw e;
  }
}

function checkRoot(
  image: GuestImage,
  cr3: bigint,
  levels: PagingLevels,
  paging: boolean,
  cpu: number | null,
): Guest {
  const root = Number(cr3 & 0x3_ffff_ffff_f000n);
  if (paging && image.frameWords(root / FRAME_SIZE) === null) {
    image.close();
    throw new InputError(
      `CR3 ${hex(cr3)} names the ${levels === 5 ? 'PML5' : 'PML4'} table at physical ${hex(root)}, which is not in the image (${image.name} holds ${image.describeHeld()})`,
    );
  }
  return { image, cr3, root, levels, paging, cpu };
}

function openFile(path: string): ByteSource {
  return new FileSource(path);
}

/**
 * Where a physical address is in the file, for messages: ` (file offset 0x…)`, or nothing when the
 * file does not hold it or holds it at the same offset (a raw image).
 */
export function fileOffsetNote(image: GuestImage, pa: number): string {
  const off = image.fileOffsetOf(pa);
  return off === null || off === pa ? '' : ` (file offset ${hex(off)})`;
}
