/**
 * `pagewalk walk (--dump FILE | --image RAW --cr3 X) VA` (cli.md): the walk of one virtual address,
 * one line per level — the table's physical address, the index, the entry and its decoded flags —
 * then the physical address, or where and why the walk stops. For example:
 *
 *   walk of 0xffff800000201234 with CR3 0x1000 (4-level paging)
 *   PML4  table 0x0000000000001000  index 256  entry 0x0000000000002003  P|RW
 *   PDPT  table 0x0000000000002000  index   0  entry 0x0000000000003003  P|RW
 *   PD    table 0x0000000000003000  index   1  entry 0x80000000004000e3  P|RW|A|D|PS|NX
 *   physical 0x0000000000401234 (2 MiB page at 0x0000000000400000; supervisor, writable, no-execute)
 *
 * Exit codes: 0 the address translates (or paging is off); 1 it does not — a not-present entry, a
 * reserved bit, or a non-canonical address (a #GP, no walk at all); 2 misuse or input rejected as
 * for `mappings`; 3 a table on the path lies outside the image (the steps so far are printed).
 */
import { hex } from './guestImage';
import {
  CliError,
  checkGuestOptions,
  emptyGuestOptions,
  fileOffsetNote,
  openGuest,
  parseAddress,
  takeGuestOption,
} from './guestSource';
import type { Guest } from './guestSource';
import { walkImage } from './imageWalk';
import type { WalkStep } from './imageWalk';
import { LEVEL_NAMES } from './mappingTree';
import { plx, plxNumber } from './qemuFormat';
import type { Io } from './runCommand';

export const WALK_HELP = `Usage: pagewalk walk (--dump FILE | --image RAW --cr3 X) VA

Walks one virtual address as the CPU does (a supervisor read; EFER.NXE taken as set) and prints,
per level, the table's physical address, the index, the entry and its flags, then the physical
address or the entry that stops the walk and why. VA is 0x-prefixed hexadecimal or decimal.
  --dump FILE   an ELF core from QEMU's dump-guest-memory (registers from the vCPU's QEMU note)
  --cpu N       the vCPU whose registers to use (0 by default)
  --image RAW   a raw physical memory image (physical address 0 at file offset 0); needs --cr3
  --cr3 X       the top table, 0x-prefixed hex or decimal (overrides the note)
  --la57        5-level paging (a dump's CR4.LA57 selects it by itself)
Exit: 0 translated, 1 not translated (not present, reserved bit, non-canonical address),
      2 misuse or unreadable/corrupt input or CR3 outside the image, 3 a table outside the image.`;

export function runWalk(args: readonly string[], io: Io): number {
  const guestOptions = emptyGuestOptions();
  let vaText: string | null = null;
  let guest: Guest;
  let va: bigint;
  try {
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '--help' || a === '-h') {
        io.stdout(WALK_HELP);
        return 0;
      }
      const used = takeGuestOption(args, i, guestOptions);
      if (used >= 0) i = used;
      else if (a.startsWith('-')) throw new CliError(2, `unknown option '${a}' for walk`);
      else if (vaText === null) vaText = a;
      else throw new CliError(2, `walk takes one VA, got a second: '${a}'`);
    }
    if (vaText === null) throw new CliError(2, 'walk needs a virtual address VA');
    va = parseAddress(vaText, 'VA');
    checkGuestOptions(guestOptions);
    guest = openGuest(guestOptions);
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    io.stderr(`pagewalk: error: ${e.message}`);
    return e.exitCode;
  }
  try {
    return printWalk(guest, va, io);
  } finally {
    guest.image.close();
  }
}

function printWalk(guest: Guest, va: bigint, io: Io): number {
  if (!guest.paging) {
    io.stdout(`paging disabled (CR0.PG clear on vCPU ${guest.cpu}): physical ${hex(va)}`);
    return 0;
  }
  const signBit = guest.levels === 5 ? 56n : 47n;
  const top = va >> signBit;
  if (top !== 0n && top !== (1n << (64n - signBit)) - 1n) {
    io.stdout(
      `fault: ${hex(va)} is not canonical (bits 63..${signBit} must all equal bit ${signBit}): a #GP, no page walk`,
    );
    return 1;
  }
  const cpu = guest.cpu === null ? '' : `vCPU ${guest.cpu}, `;
  io.stdout(`walk of ${hex(va)} with CR3 ${hex(guest.cr3)} (${cpu}${guest.levels}-level paging)`);
  const outcome = walkImage(guest, va);
  for (const s of outcome.steps) io.stdout(stepLine(s));
  const last = outcome.steps[outcome.steps.length - 1];
  switch (outcome.kind) {
    case 'mapped': {
      const base = outcome.physical - (outcome.physical % BigInt(outcome.pageSize));
      const rights = [
        outcome.user ? 'user' : 'supervisor',
        outcome.writable ? 'writable' : 'read-only',
        outcome.nx ? 'no-execute' : 'executable',
      ];
      io.stdout(
        `physical 0x${plxNumber(Number(outcome.physical))} (${sizeName(outcome.pageSize)} page at 0x${plxNumber(Number(base))}; ${rights.join(', ')})`,
      );
      return 0;
    }
    case 'not-present':
      io.stdout(
        `fault: the ${LEVEL_NAMES[last.level]} entry at ${entryAt(guest, last)} is not present (P clear)`,
      );
      return 1;
    case 'reserved':
      io.stdout(
        `fault: the ${LEVEL_NAMES[last.level]} entry at ${entryAt(guest, last)} sets a reserved bit: ${outcome.reason}`,
      );
      return 1;
    case 'missing':
      io.stderr(
        `pagewalk: error: the ${LEVEL_NAMES[last.level - 1]} at physical ${hex(outcome.table)} is not in the image ` +
          `(named by the ${LEVEL_NAMES[last.level]} entry at ${entryAt(guest, last)}; ` +
          `${guest.image.name} holds ${guest.image.describeHeld()})`,
      );
      return 3;
  }
}

/** `PML4  table 0x…  index 256  entry 0x…  P|RW|…` */
function stepLine(s: WalkStep): string {
  return (
    `${LEVEL_NAMES[s.level].padEnd(4)}  table 0x${plxNumber(s.table)}  index ${String(s.index).padStart(3)}  ` +
    `entry 0x${plx(s.hi, s.lo)}  ${entryFlags(s.level, s.lo, s.hi)}`
  );
}

function entryAt(guest: Guest, s: WalkStep): string {
  const pa = s.table + s.index * 8;
  return `physical ${hex(pa)}${fileOffsetNote(guest.image, pa)}`;
}

/**
 * The bits of an entry by name: P RW US PWT PCD A D, bit 7 as PS (PAT in a PTE), G, PAT (bit 12) in a
 * 2 MiB or 1 GiB leaf, NX; '-' when none is set.
 */
export function entryFlags(level: number, lo: number, hi: number): string {
  const names: string[] = [];
  const bit = (mask: number, name: string) => {
    if (lo & mask) names.push(name);
  };
  bit(0x1, 'P');
  bit(0x2, 'RW');
  bit(0x4, 'US');
  bit(0x8, 'PWT');
  bit(0x10, 'PCD');
  bit(0x20, 'A');
  bit(0x40, 'D');
  bit(0x80, level === 1 ? 'PAT' : 'PS');
  bit(0x100, 'G');
  if ((level === 2 || level === 3) && lo & 0x80) bit(0x1000, 'PAT');
  if (hi & 0x80000000) names.push('NX');
  return names.length === 0 ? '-' : names.join('|');
}

function sizeName(bytes: number): string {
  return bytes >= 1 << 30 ? '1 GiB' : bytes >= 1 << 21 ? '2 MiB' : '4 KiB';
}
