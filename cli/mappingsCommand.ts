/**
 * `pagewalk mappings (--dump FILE | --image RAW --cr3 X) [--format tlb|mem|json] [--filter …]`
 * (cli.md): what a real guest's page tables map, as QEMU's `info tlb` / `info mem` print it, or as
 * JSON ranges.
 *
 * Exit codes, in the sense cli.md gives them for `run`: 0 the listing is complete; 2 the command
 * line or the input was rejected before any listing (misuse, unreadable, corrupt or truncated
 * dump, CR3 outside the image); 3 the listing ran but is incomplete — a table lies outside the
 * image (QEMU would read it as zeros, and so does the listing; each is reported on stderr with the
 * entry that names it) or `--max-pages` was reached.
 */
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
import { hex } from './guestImage';
import { RangeBuilder } from './mappingJson';
import type { JsonRange } from './mappingJson';
import { LEVEL_NAMES, PAGES_PER_ENTRY, walkTree } from './mappingTree';
import type { Leaf, MissingTable } from './mappingTree';
import { MemPrinter, canonicalBig, tlbLine } from './qemuFormat';
import type { Io } from './runCommand';

export const DEFAULT_MAX_PAGES = 4_194_304;

export const MAPPINGS_HELP = `Usage: pagewalk mappings (--dump FILE | --image RAW --cr3 X) [--format tlb|mem|json] [--filter F]…

Lists what a guest's x86-64 page tables map (4-level, or 5-level with CR4.LA57 or --la57).
  --dump FILE      an ELF core from QEMU's dump-guest-memory; CR3, CR0 and CR4 come from the
                   vCPU's QEMU note
  --cpu N          the vCPU whose registers to use (0, the first, by default)
  --image RAW      a raw physical memory image (physical address 0 at file offset 0); needs --cr3
  --cr3 X          the top table, 0x-prefixed hex or decimal (overrides the note)
  --la57           5-level paging (a dump's CR4.LA57 selects it by itself)
  --format tlb     one line per mapped page, as QEMU's "info tlb" prints it (the default):
                   VADDR: PADDR XGPDACTUW (the leaf entry's NX G PS D A PCD PWT U/S R/W)
  --format mem     runs of equal rights, as QEMU's "info mem" prints them: START-END SIZE URW
  --format json    one JSON object: ranges with start, last, size, phys, page_size, pages and the
                   attributes nx g ps d a pcd pwt u w (u, w, nx effective over every level)
  --filter F       keep pages by their effective rights: w, ro, x (NX clear), u, s, or RANGE=START-END
                   (pages overlapping START..END, END exclusive); repeat or comma-separate to AND
  --max-pages N    stop after N mapped pages (default ${DEFAULT_MAX_PAGES}; recursive mappings multiply)
Exit: 0 listed, 2 misuse or unreadable/corrupt input or CR3 outside the image,
      3 incomplete: a table outside the image (reported on stderr) or --max-pages reached.`;

type Format = 'tlb' | 'mem' | 'json';
type Filter = (leaf: Leaf, guest: Guest) => boolean;

interface Options {
  format: Format;
  filters: Filter[];
  maxPages: number;
}

export function runMappings(args: readonly string[], io: Io): number {
  const guestOptions = emptyGuestOptions();
  const options: Options = { format: 'tlb', filters: [], maxPages: DEFAULT_MAX_PAGES };
  let guest: Guest;
  try {
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '--help' || a === '-h') {
        io.stdout(MAPPINGS_HELP);
        return 0;
      }
      const used = takeGuestOption(args, i, guestOptions);
      if (used >= 0) {
        i = used;
        continue;
      }
      const [name, inline] =
        a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), true] : [a, false];
      const value = (): string => {
        const v = inline ? a.slice(a.indexOf('=') + 1) : args[++i];
        if (v === undefined || v === '') throw new CliError(2, `${name} needs a value`);
        return v;
      };
      if (name === '--format') {
        const f = value();
        if (f !== 'tlb' && f !== 'mem' && f !== 'json')
          throw new CliError(2, `--format takes tlb, mem or json, not '${f}'`);
        options.format = f;
      } else if (name === '--filter') {
        for (const part of value().split(',')) options.filters.push(parseFilter(part.trim()));
      } else if (name === '--max-pages') {
        const v = value();
        if (!/^[1-9]\d*$/.test(v))
          throw new CliError(2, `--max-pages needs a positive whole number, got '${v}'`);
        options.maxPages = Number(v);
      } else if (a.startsWith('-')) throw new CliError(2, `unknown option '${a}' for mappings`);
      else throw new CliError(2, `mappings takes no operand, got '${a}'`);
    }
    checkGuestOptions(guestOptions);
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    io.stderr(`pagewalk: error: ${e.message}`);
    return e.exitCode;
  }
  try {
    guest = openGuest(guestOptions);
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    // Once the command line is understood, --format json prints its object whatever happens.
    const line = `pagewalk: error: ${e.message}`;
    io.stderr(line);
    if (options.format === 'json') io.stdout(JSON.stringify(report('rejected', null, [], [line])));
    return e.exitCode;
  }
  try {
    return list(guest, options, io);
  } finally {
    guest.image.close();
  }
}

function list(guest: Guest, options: Options, io: Io): number {
  const errors: string[] = [];
  const error = (message: string) => {
    const line = `pagewalk: error: ${message}`;
    errors.push(line);
    io.stderr(line);
  };
  if (!guest.paging) {
    // hmp_info_tlb and hmp_info_mem say only this when CR0.PG is clear.
    if (options.format === 'json') io.stdout(JSON.stringify(report('ok', guest, [], errors)));
    else io.stdout('PG disabled');
    return 0;
  }
  const mem = new MemPrinter(guest.levels, (line) => io.stdout(line));
  const ranges = new RangeBuilder(guest.levels);
  const complete = walkTree({
    image: guest.image,
    root: guest.root,
    levels: guest.levels,
    maxPages: options.maxPages,
    onLeaf(leaf) {
      for (const f of options.filters) if (!f(leaf, guest)) return;
      if (options.format === 'tlb') io.stdout(tlbLine(leaf, guest.levels));
      else if (options.format === 'mem') mem.add(leaf);
      else ranges.add(leaf);
    },
    onMissing(m) {
      error(missingMessage(guest, m));
    },
  });
  if (!complete) {
    error(
      `stopped after ${options.maxPages} mapped pages (--max-pages); the tables map more (a recursive mapping multiplies them)`,
    );
  }
  if (options.format === 'mem') mem.finish();
  const status = errors.length === 0 ? 'ok' : 'incomplete';
  if (options.format === 'json') io.stdout(JSON.stringify(report(status, guest, ranges.finish(), errors)));
  return errors.length === 0 ? 0 : 3;
}

function missingMessage(guest: Guest, m: MissingTable): string {
  const parent = LEVEL_NAMES[m.level + 1];
  return (
    `the ${LEVEL_NAMES[m.level]} at physical ${hex(m.table)} is not in the image ` +
    `(named by the ${parent} entry at physical ${hex(m.entryAddress)}${fileOffsetNote(guest.image, m.entryAddress)} ` +
    `for virtual ${hex(canonicalBig(m.vpn * 4096, guest.levels))}; ${guest.image.name} holds ${guest.image.describeHeld()}); ` +
    'read as not present, as QEMU would'
  );
}

function report(status: string, guest: Guest | null, ranges: JsonRange[], errors: string[]): object {
  return {
    status,
    cpu: guest?.cpu ?? null,
    cr3: guest === null ? null : hex(guest.cr3),
    paging: guest === null ? null : guest.paging ? `${guest.levels}-level` : 'disabled',
    ranges,
    errors,
  };
}

/** One --filter term, tested on the effective rights of a page. */
export function parseFilter(term: string): Filter {
  switch (term) {
    case 'w':
      return (l) => l.writable;
    case 'ro':
      return (l) => !l.writable;
    case 'x':
      return (l) => !l.nx;
    case 'u':
      return (l) => l.user;
    case 's':
      return (l) => !l.user;
  }
  const m = /^range=([^-]+)-([^-]+)$/i.exec(term);
  if (m === null) {
    throw new CliError(2, `--filter takes w, ro, x, u, s or RANGE=START-END, not '${term}'`);
  }
  const start = parseAddress(m[1], 'RANGE start');
  const end = parseAddress(m[2], 'RANGE end');
  if (end <= start) throw new CliError(2, `--filter ${term}: END must be above START`);
  return (l, g) => {
    const va = canonicalBig(l.vpn * 4096, g.levels);
    return va < end && va + BigInt(PAGES_PER_ENTRY[l.level] * 4096) > start;
  };
}
