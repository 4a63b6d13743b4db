/**
 * The walk of one virtual address through a guest image, as the CPU does it: the project's walker
 * (engine/paging/walkTables.ts) run over an `ImageMemory`, a MachineMemory whose frames are read
 * from the file on demand instead of written by a simulation. Unlike `info tlb`, this walk checks
 * reserved bits (PS in a PML4E/PML5E, the low address bits of a 1 GiB or 2 MiB page), follows entry
 * addresses up to bit 51 and stops at the first problem.
 *
 * The dump records neither EFER nor MAXPHYADDR: NX is taken as honoured (EFER.NXE = 1, as every
 * x86-64 OS sets it when the CPU has NX) and no address bit as reserved. The access is a supervisor
 * read, which no present translation refuses; the rights printed say what else would be allowed.
 * With LA57 the PML5 step is done here, and the engine's 4-level walk continues below it.
 */
import { MachineMemory } from '../engine/memory/machineMemory';
import { walkTables } from '../engine/paging/walkTables';
import { FRAME_SIZE } from './guestImage';
import type { GuestImage } from './guestImage';
import type { Guest } from './guestSource';

export interface WalkStep {
  readonly level: number;
  /** Physical address of the table. */
  readonly table: number;
  readonly index: number;
  readonly lo: number;
  readonly hi: number;
}

export type WalkOutcome =
  | {
      readonly kind: 'mapped';
      readonly steps: WalkStep[];
      readonly physical: bigint;
      readonly pageSize: number;
      readonly user: boolean;
      readonly writable: boolean;
      readonly nx: boolean;
    }
  | { readonly kind: 'not-present'; readonly steps: WalkStep[] }
  | { readonly kind: 'reserved'; readonly steps: WalkStep[]; readonly reason: string }
  /** The last step's entry names a table the image does not hold. */
  | { readonly kind: 'missing'; readonly steps: WalkStep[]; readonly table: number };

const ZERO_WORDS = new Uint32Array(FRAME_SIZE / 4);
const TWO_20 = 0x100000;

/** A read-only MachineMemory over an image; frames it does not hold read as zeros (never reached). */
class ImageMemory extends MachineMemory {
  constructor(private readonly image: GuestImage) {
    super();
  }
  override readLo(mfn: number, index: number): number {
    return this.frameWords(mfn)[index << 1];
  }
  override readHi(mfn: number, index: number): number {
    return this.frameWords(mfn)[(index << 1) | 1];
  }
  override frameWords(mfn: number): Uint32Array {
    return this.image.frameWords(mfn) ?? ZERO_WORDS;
  }
  override isTouched(mfn: number): boolean {
    return this.image.frameWords(mfn) !== null;
  }
}

/** Walks `va`, which the caller has checked is canonical for the guest's paging mode. */
export function walkImage(guest: Guest, va: bigint): WalkOutcome {
  const image = guest.image;
  const steps: WalkStep[] = [];
  let root = guest.root / FRAME_SIZE;
  let u = true;
  let rw = true;
  let nx = false;
  if (guest.levels === 5) {
    const index = Number((va >> 48n) & 511n);
    const words = image.frameWords(root) ?? ZERO_WORDS;
    const lo = words[index << 1];
    const hi = words[(index << 1) | 1];
    steps.push({ level: 5, table: guest.root, index, lo, hi });
    if ((lo & 1) === 0) return { kind: 'not-present', steps };
    if (lo & 0x80) return { kind: 'reserved', steps, reason: 'PS (bit 7) is reserved in a PML5 entry' };
    u = (lo & 4) !== 0;
    rw = (lo & 2) !== 0;
    nx = (hi & 0x80000000) !== 0;
    root = (hi & 0xfffff) * TWO_20 + (lo >>> 12);
    if (image.frameWords(root) === null) return { kind: 'missing', steps, table: root * FRAME_SIZE };
  }
  const walk = walkTables({
    memory: new ImageMemory(image),
    root,
    va48: Number(va & 0xffff_ffff_ffffn),
    access: 'read',
    user: false,
    wp: false,
    nxe: true,
    allow1G: true,
    maxPhysBits: 52,
    tableMfn: (frame) => (image.frameWords(frame) === null ? -1 : frame),
    setAD: false,
  });
  for (const l of walk.levels) {
    steps.push({ level: l.level, table: l.frame * FRAME_SIZE, index: l.index, lo: l.lo, hi: l.hi });
  }
  if (walk.ok) {
    return {
      kind: 'mapped',
      steps,
      physical: BigInt(walk.frame) * 4096n + (va & 0xfffn),
      pageSize: walk.pageSize,
      user: u && walk.us,
      writable: rw && walk.rw,
      nx: nx || walk.nx,
    };
  }
  if (walk.cause === 'unbacked_table') {
    return { kind: 'missing', steps, table: (walk.unbackedFrame ?? 0) * FRAME_SIZE };
  }
  if (walk.cause === 'reserved')
    return { kind: 'reserved', steps, reason: reservedReason(steps[steps.length - 1]) };
  return { kind: 'not-present', steps };
}

/** Which reserved bit the engine's walk stopped on (it checks only these with MAXPHYADDR 52). */
function reservedReason(step: WalkStep): string {
  if (step.level >= 4) return `PS (bit 7) is reserved in a ${step.level === 4 ? 'PML4' : 'PML5'} entry`;
  if (step.level === 3) return 'a 1 GiB page needs address bits 29..13 clear';
  return 'a 2 MiB page needs address bits 20..13 clear';
}
