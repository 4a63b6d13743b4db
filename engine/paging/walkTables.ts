/**
 * The x86-64 4-level page walk (Intel SDM Vol. 3A §4.5 and §4.6), one function for every user:
 * the "hardware" (with `setAD`, which sets A in every entry used and D in the leaf of a write, only
 * once the whole walk has succeeded — check first, mutate after, as Xen's `guest_walk_tables` does)
 * and introspection (`setAD` false: no side effect at all). A walk is a value: every level visited,
 * then either the translation or the fault with its hardware error code.
 *
 * Tables live in a *table space*: machine frames (PV guest tables, shadow tables) or guest frames
 * (HVM guest tables), mapped to machine frames by `tableMfn` (the p2m; −1 = unbacked, R1.3 of
 * hvm-paging.md). The leaf's frame is returned in the same space; the caller translates it.
 *
 * Entry checks per level (SDM table 4-20 and §4.6):
 *   level  name   PS allowed          reserved when present
 *   4      PML4E  no (PS reserved)    bits 51..MAXPHYADDR, PS
 *   3      PDPTE  1 GiB if allow1G    bits 51..M; with PS: bits 29..13, or PS itself without allow1G
 *   2      PDE    2 MiB               bits 51..M; with PS: bits 20..13
 *   1      PTE    —                   bits 51..M
 *   NX (bit 63) is reserved at every level while EFER.NXE = 0.
 * Rights combine across levels: RW and US are ANDed, NX is ORed. A user access needs US; a write
 * needs RW when the access is a user one or CR0.WP = 1; a fetch needs NX clear (with NXE).
 */
import type { MachineMemory } from '../memory/machineMemory';
import {
  PF_I,
  PF_P,
  PF_RSVD,
  PF_U,
  PF_W,
  PTE_A,
  PTE_D,
  PTE_G,
  PTE_HI_NX,
  PTE_P,
  PTE_PS,
  PTE_RW,
  PTE_US,
} from './pte';
import { tableIndex } from './virtualAddress';

export type AccessKind = 'read' | 'write' | 'fetch';
export type WalkFaultCause = 'not_present' | 'protection' | 'reserved' | 'unbacked_table';

export interface WalkParams {
  readonly memory: MachineMemory;
  /** Frame of the L4 table, in table space. */
  readonly root: number;
  /** The low 48 bits of a canonical virtual address. */
  readonly va48: number;
  readonly access: AccessKind;
  readonly user: boolean;
  /** CR0.WP: supervisor writes need RW. */
  readonly wp: boolean;
  /** EFER.NXE: NX is honoured (and not a reserved bit); fetch faults report PF_I. */
  readonly nxe: boolean;
  /** PS at L3 maps 1 GiB; otherwise it is a reserved bit (no 1 GiB pages under shadow, R3.9). */
  readonly allow1G: boolean;
  /** Physical-address width: entry address bits above it are reserved. */
  readonly maxPhysBits: number;
  /** Table frame → machine frame, −1 when unbacked; identity when absent. */
  readonly tableMfn?: (frame: number) => number;
  /** Set A/D bits as the hardware does (only when the walk succeeds). */
  readonly setAD: boolean;
}

export interface WalkLevel {
  readonly level: number;
  /** The table's frame in table space (gfn for guest tables of an HVM domain). */
  readonly frame: number;
  readonly mfn: number;
  readonly index: number;
  /** The entry as read (before any A/D update of this walk). */
  readonly lo: number;
  readonly hi: number;
}

export interface AdUpdate {
  readonly level: number;
  readonly frame: number;
  readonly mfn: number;
  readonly index: number;
  /** Bits newly set (A, D). */
  readonly bits: number;
}

export interface Walk {
  readonly levels: WalkLevel[];
  readonly ok: boolean;
  /** Success: frame of the 4 KiB page holding the address, in table space (gfn / mfn). */
  readonly frame: number;
  readonly pageSize: number;
  readonly leafLevel: number;
  readonly rw: boolean;
  readonly us: boolean;
  readonly nx: boolean;
  readonly global: boolean;
  /** The leaf's D bit is set (after this walk's own update). */
  readonly dirty: boolean;
  /** A/D bits this walk set (empty when `setAD` is false or nothing changed). */
  readonly adSet: AdUpdate[];
  /** Fault: the hardware error code, the cause and the level of the entry that stopped the walk. */
  readonly errorCode: number;
  readonly cause: WalkFaultCause | null;
  readonly faultLevel: number | null;
  /** Fault with cause `unbacked_table`: the table frame that is not backed. */
  readonly unbackedFrame: number | null;
}

const TWO_20 = 0x100000;
const PAGES_PER_LEVEL = [0, 1, 512, 512 * 512];

function reservedHiMask(maxPhysBits: number, nxe: boolean): number {
  // Address bits maxPhysBits..51 live in bits (maxPhysBits-32)..19 of the high half.
  const addrMask = maxPhysBits >= 52 ? 0 : (0xfffff & ~((1 << (maxPhysBits - 32)) - 1)) >>> 0;
  return (addrMask | (nxe ? 0 : PTE_HI_NX)) >>> 0;
}

export function walkTables(p: WalkParams): Walk {
  const levels: WalkLevel[] = [];
  const isWrite = p.access === 'write';
  const isFetch = p.access === 'fetch';
  const accessBits = (isWrite ? PF_W : 0) | (p.user ? PF_U : 0) | (isFetch && p.nxe ? PF_I : 0);
  const rsvdHi = reservedHiMask(p.maxPhysBits, p.nxe);
  let frame = p.root;
  let rw = true;
  let us = true;
  let nx = false;

  for (let level = 4; level >= 1; level--) {
    const mfn = p.tableMfn === undefined ? frame : p.tableMfn(frame);
    if (mfn < 0) return fault(levels, accessBits, 'unbacked_table', level, frame);
    const index = tableIndex(p.va48, level);
    const lo = p.memory.readLo(mfn, index);
    const hi = p.memory.readHi(mfn, index);
    levels.push({ level, frame, mfn, index, lo, hi });

    if ((lo & PTE_P) === 0) return fault(levels, accessBits, 'not_present', level, null);
    const ps = (lo & PTE_PS) !== 0;
    let rsvd = (hi & rsvdHi) !== 0;
    if (level === 4 && ps) rsvd = true;
    else if (level === 3 && ps) rsvd ||= !p.allow1G || (lo & 0x3fffe000) !== 0;
    else if (level === 2 && ps) rsvd ||= (lo & 0x001fe000) !== 0;
    if (rsvd) return fault(levels, accessBits | PF_P | PF_RSVD, 'reserved', level, null);

    rw &&= (lo & PTE_RW) !== 0;
    us &&= (lo & PTE_US) !== 0;
    nx ||= p.nxe && (hi & PTE_HI_NX) !== 0;

    const next = (hi & 0xfffff) * TWO_20 + (lo >>> 12);
    if (level === 1 || (ps && level <= 3)) {
      const denied = (p.user && !us) || (isWrite && !rw && (p.user || p.wp)) || (isFetch && nx);
      if (denied) return fault(levels, accessBits | PF_P, 'protection', level, null);
      // A superpage's base frame has its low bits clear (checked above as reserved); add the
      // offset of the 4 KiB page within it.
      const pages = PAGES_PER_LEVEL[level];
      // In a superpage entry bit 12 is PAT, not part of the frame number.
      const base = level === 1 ? next : next - (next % 2);
      const pageInSuper = level === 1 ? 0 : Math.floor(p.va48 / 4096) % pages;
      const adSet = p.setAD ? setAccessedDirty(p.memory, levels, isWrite) : [];
      return {
        levels,
        ok: true,
        frame: base + pageInSuper,
        pageSize: pages * 4096,
        leafLevel: level,
        rw,
        us,
        nx,
        global: (lo & PTE_G) !== 0,
        dirty: (lo & PTE_D) !== 0 || (p.setAD && isWrite),
        adSet,
        errorCode: 0,
        cause: null,
        faultLevel: null,
        unbackedFrame: null,
      };
    }
    frame = next;
  }
  throw new Error('walkTables: unreachable');
}

function fault(
  levels: WalkLevel[],
  errorCode: number,
  cause: WalkFaultCause,
  level: number,
  unbackedFrame: number | null,
): Walk {
  return {
    levels,
    ok: false,
    frame: -1,
    pageSize: 0,
    leafLevel: 0,
    rw: false,
    us: false,
    nx: false,
    global: false,
    dirty: false,
    adSet: [],
    errorCode,
    cause,
    faultLevel: level,
    unbackedFrame,
  };
}

/** A in every entry used, D in the leaf of a write; returns what changed. */
function setAccessedDirty(memory: MachineMemory, levels: WalkLevel[], isWrite: boolean): AdUpdate[] {
  const updates: AdUpdate[] = [];
  const last = levels.length - 1;
  for (let i = 0; i <= last; i++) {
    const l = levels[i];
    const want = PTE_A | (i === last && isWrite ? PTE_D : 0);
    // Re-read: an earlier level of this walk may be the same entry (a self-map).
    const current = memory.readLo(l.mfn, l.index);
    const bits = want & ~current;
    if (bits !== 0) {
      memory.orLo(l.mfn, l.index, bits);
      updates.push({ level: l.level, frame: l.frame, mfn: l.mfn, index: l.index, bits });
    }
  }
  return updates;
}
