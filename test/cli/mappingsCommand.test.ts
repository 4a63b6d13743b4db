import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main';
import {
  A,
  CR4_LA57,
  CR4_PAE,
  P,
  PS,
  PhysMemory,
  RW,
  US,
  elfCore,
  standardTables,
  tempFile,
} from './guestImageBuilder';

function cli(args: string[]): { code: number; stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = main(args, { stdout: (l) => stdout.push(l), stderr: (l) => stderr.push(l) });
  return { code, stdout, stderr };
}

const raw = tempFile(standardTables().bytes, 'standard');

/**
 * What QEMU's `info tlb` prints for standardTables(), checked against a line-by-line transcription of
 * tlb_info_la48 (and, below, mem_info_la48).
 */
const TLB = [
  '0000000000000000: 0000000000005000 ---DA---W',
  '0000000000001000: 0000000000006000 XG-----U-',
  '0000000000002000: 0000000000007000 -----CTUW',
  '0000000000003000: 0000300000008000 -------UW',
  '0000000000005000: 0000000000009000 -------UW',
  '0000000000200000: 0000000000200000 --PDA---W',
  '0000000000400000: 0000000000400000 X-P------',
  '0000000040000000: 0000000040000000 -GP----UW',
  'ffff800000000000: 0000000000000000 XGPDA---W',
  'ffff800000200000: 0000000000200000 XGPDA---W',
  // The self-map PML4[511] → PML4: every table appears again, one level down.
  'ffffff8000000000: 0000000000004000 ----A--UW',
  'ffffff8000001000: 0000000000200000 ---DA---W',
  'ffffff8000002000: 0000000000400000 X--------',
  'ffffff8000200000: 0000000040000000 -GP----UW',
  'ffffffc000000000: 0000000000000000 XG-DA---W',
  'ffffffc000001000: 0000000000200000 XG-DA---W',
  'ffffffffc0000000: 0000000000003000 -------UW',
  'ffffffffc0001000: 0000000040001000 -G-----UW',
  'ffffffffe0000000: 0000000000007000 --------W',
  'ffffffffffe00000: 0000000000002000 -------UW',
  'fffffffffff00000: 0000000000006000 --------W',
  'fffffffffffff000: 0000000000001000 --------W',
];

/** What `info mem` prints for the same tables (mem_info_la48; note the end of the last run). */
const MEM = [
  '0000000000000000-0000000000001000 0000000000001000 -rw',
  '0000000000001000-0000000000002000 0000000000001000 ur-',
  '0000000000002000-0000000000004000 0000000000002000 urw',
  '0000000000005000-0000000000006000 0000000000001000 urw',
  '0000000000200000-0000000000400000 0000000000200000 -rw',
  '0000000000400000-0000000000600000 0000000000200000 -r-',
  '0000000040000000-0000000080000000 0000000040000000 urw',
  'ffff800000000000-ffff800000400000 0000000000400000 -rw',
  'ffffff8000000000-ffffff8000002000 0000000000002000 -rw',
  'ffffff8000002000-ffffff8000003000 0000000000001000 -r-',
  'ffffff8000200000-ffffff8000400000 0000000000200000 -rw',
  'ffffffc000000000-ffffffc000002000 0000000000002000 -rw',
  'ffffffffc0000000-ffffffffc0002000 0000000000002000 -rw',
  'ffffffffe0000000-ffffffffe0001000 0000000000001000 -rw',
  'ffffffffffe00000-ffffffffffe01000 0000000000001000 -rw',
  'fffffffffff00000-fffffffffff01000 0000000000001000 -rw',
  'fffffffffffff000-0001000000000000 0000000000001000 -rw',
];

describe('pagewalk mappings: QEMU formats', () => {
  it('prints info tlb lines by default: 4K, 2M and 1G pages, NX/G/PCD/PWT/U/W, a self-map', () => {
    expect(cli(['mappings', '--image', raw, '--cr3', '0x1000'])).toEqual({
      code: 0,
      stdout: TLB,
      stderr: [],
    });
    expect(cli(['mappings', '--image', raw, '--cr3=4096', '--format=tlb']).stdout).toEqual(TLB);
  });

  it('prints info mem runs, merging equal rights and sign-extending as addr_canonical does', () => {
    expect(cli(['mappings', '--image', raw, '--cr3', '0x1000', '--format', 'mem'])).toEqual({
      code: 0,
      stdout: MEM,
      stderr: [],
    });
  });

  it('ignores CR3 bits QEMU masks off (PCID, bits 50 and up)', () => {
    expect(cli(['mappings', '--image', raw, '--cr3', '0x8004000000001fff']).stdout).toEqual(TLB);
  });

  it('walks 5-level tables with LA57 and sign-extends from bit 56', () => {
    const mem = new PhysMemory(0x4000)
      .entry(0x1000, 0, 0x2000n | P | RW)
      .entry(0x1000, 1, 0x2000n | P | RW)
      .entry(0x1000, 511, 0x2000n | P | RW | US)
      .entry(0x2000, 0, 0x3000n | P | RW | US)
      .entry(0x3000, 0, 0x40000000n | P | RW | PS);
    const file = tempFile(mem.bytes, 'la57');
    const expected = [
      '0000000000000000: 0000000040000000 --P-----W',
      '0001000000000000: 0000000040000000 --P-----W', // bit 48 is an ordinary bit with LA57
      'ffff000000000000: 0000000040000000 --P-----W',
    ];
    expect(cli(['mappings', '--image', file, '--cr3', '0x1000', '--la57']).stdout).toEqual(expected);
    const core = tempFile(
      elfCore({ segments: [[0, mem.bytes]], cpus: [{ cr3: 0x1000n, cr4: CR4_PAE | CR4_LA57 }] }),
    );
    expect(cli(['mappings', '--dump', core]).stdout).toEqual(expected);
    expect(cli(['mappings', '--dump', core, '--format', 'mem']).stdout).toEqual([
      '0000000000000000-0000000040000000 0000000040000000 -rw',
      '0001000000000000-0001000040000000 0000000040000000 -rw',
      'ffff000000000000-ffff000040000000 0000000040000000 -rw',
    ]);
  });
});

describe('pagewalk mappings: filters', () => {
  const run = (...filters: string[]) =>
    cli(['mappings', '--image', raw, '--cr3', '0x1000', ...filters.flatMap((f) => ['--filter', f])]).stdout;

  it('keeps user pages by their effective U (every level), not the leaf alone', () => {
    expect(run('u')).toEqual([TLB[1], TLB[2], TLB[3], TLB[4], TLB[7]]);
    expect(run('s')).toEqual(TLB.filter((l) => !run('u').includes(l)));
  });

  it('keeps writable, read-only and executable pages; terms AND, by repetition or commas', () => {
    expect(run('ro')).toEqual([TLB[1], TLB[6], TLB[12]]);
    expect(run('w', 'u')).toEqual([TLB[2], TLB[3], TLB[4], TLB[7]]);
    expect(run('w,u')).toEqual(run('w', 'u'));
    // Every read-only page here is also NX; no table above a leaf sets NX.
    expect(run('x', 'ro')).toEqual([]);
    expect(run('x')).toEqual(TLB.filter((l) => !l.split(' ')[2].startsWith('X')));
  });

  it('keeps pages overlapping RANGE=START-END (END exclusive, canonical addresses)', () => {
    expect(run('RANGE=0xffff800000000000-0xffff800000200001')).toEqual([TLB[8], TLB[9]]);
    expect(run('range=0x1000-0x3000')).toEqual([TLB[1], TLB[2]]);
    expect(run('RANGE=0x3fffffff-0x40000001', 'u')).toEqual([TLB[7]]);
  });

  it('merges info mem runs over the filtered pages only', () => {
    expect(
      cli(['mappings', '--image', raw, '--cr3', '0x1000', '--format', 'mem', '--filter', 'u']).stdout,
    ).toEqual([
      '0000000000001000-0000000000002000 0000000000001000 ur-',
      '0000000000002000-0000000000004000 0000000000002000 urw',
      '0000000000005000-0000000000006000 0000000000001000 urw',
      '0000000040000000-0000000080000000 0000000040000000 urw',
    ]);
  });

  it('rejects an unknown filter term with exit 2', () => {
    expect(run('rwx')).toEqual([]);
    const r = cli(['mappings', '--image', raw, '--cr3', '0x1000', '--filter', 'rwx']);
    expect(r.code).toBe(2);
    expect(r.stderr).toEqual([
      "pagewalk: error: --filter takes w, ro, x, u, s or RANGE=START-END, not 'rwx'",
    ]);
    expect(cli(['mappings', '--image', raw, '--cr3', '1', '--filter', 'RANGE=0x2000-0x1000']).stderr).toEqual(
      ['pagewalk: error: --filter RANGE=0x2000-0x1000: END must be above START'],
    );
  });
});

describe('pagewalk mappings: JSON', () => {
  it('prints ranges with every attribute, merging contiguous alike pages', () => {
    const r = cli(['mappings', '--image', raw, '--cr3', '0x1000', '--format', 'json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toHaveLength(1);
    const json = JSON.parse(r.stdout[0]);
    expect(json).toMatchObject({ status: 'ok', cpu: null, cr3: '0x1000', paging: '4-level', errors: [] });
    expect(json.ranges).toHaveLength(TLB.length - 1);
    expect(json.ranges[0]).toEqual({
      start: '0x0',
      last: '0xfff',
      size: '0x1000',
      phys: '0x5000',
      page_size: 4096,
      pages: 1,
      nx: false,
      g: false,
      ps: false,
      d: true,
      a: true,
      pcd: false,
      pwt: false,
      u: false,
      w: true,
    });
    // The kernel's two 2 MiB pages are contiguous both ways and alike: one range.
    expect(json.ranges[8]).toMatchObject({
      start: '0xffff800000000000',
      last: '0xffff8000003fffff',
      size: '0x400000',
      phys: '0x0',
      page_size: 2097152,
      pages: 2,
      nx: true,
      g: true,
      ps: true,
      u: false,
      w: true,
    });
    expect(json.ranges[7]).toMatchObject({ start: '0x40000000', page_size: 1073741824, u: true, nx: false });
    // U is effective: the same PDPT entry, reached through the self-map (PML4[511] has no U), is not.
    expect(json.ranges[12]).toMatchObject({
      start: '0xffffff8000200000',
      phys: '0x40000000',
      u: false,
      ps: true,
    });
    expect(json.ranges.at(-1)).toMatchObject({ start: '0xfffffffffffff000', last: '0xffffffffffffffff' });
  });

  it('prints a rejected object when the input cannot be used', () => {
    const r = cli(['mappings', '--image', raw, '--cr3', '0x100000', '--format', 'json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout[0])).toEqual({
      status: 'rejected',
      cpu: null,
      cr3: null,
      paging: null,
      ranges: [],
      errors: r.stderr,
    });
  });
});

describe('pagewalk mappings: bad tables and bounds', () => {
  it('reports a table outside the image with the entry naming it, lists the rest and exits 3', () => {
    const mem = standardTables().entry(0x3000, 3, 0x100000n | P | RW);
    const file = tempFile(mem.bytes, 'outside');
    const r = cli(['mappings', '--image', file, '--cr3', '0x1000']);
    expect(r.code).toBe(3);
    // Through the self-map the bad PD entry is a PTE, and maps a page like any other.
    expect(r.stdout).toEqual([
      ...TLB.slice(0, 13),
      'ffffff8000003000: 0000000000100000 --------W',
      ...TLB.slice(13),
    ]);
    expect(r.stderr).toEqual([
      'pagewalk: error: the PT at physical 0x100000 is not in the image (named by the PD entry at physical 0x3018 ' +
        `for virtual 0x600000; ${file} holds physical 0x0-0x7fff); read as not present, as QEMU would`,
    ]);
  });

  it('rejects a CR3 outside the image with exit 2', () => {
    const r = cli(['mappings', '--image', raw, '--cr3', '0x8000']);
    expect(r).toEqual({
      code: 2,
      stdout: [],
      stderr: [
        `pagewalk: error: CR3 0x8000 names the PML4 table at physical 0x8000, which is not in the image (${raw} holds physical 0x0-0x7fff)`,
      ],
    });
  });

  it('terminates on a table whose every entry names itself, stopping at --max-pages', () => {
    const mem = new PhysMemory(0x2000);
    for (let i = 0; i < 512; i++) mem.entry(0x1000, i, 0x1000n | P | RW | US | A);
    const file = tempFile(mem.bytes, 'allself');
    const r = cli(['mappings', '--image', file, '--cr3', '0x1000', '--max-pages', '1000']);
    expect(r.code).toBe(3);
    expect(r.stdout).toHaveLength(1000);
    expect(r.stdout[0]).toBe('0000000000000000: 0000000000001000 ----A--UW');
    expect(r.stdout[999]).toBe('00000000003e7000: 0000000000001000 ----A--UW');
    expect(r.stderr).toEqual([
      'pagewalk: error: stopped after 1000 mapped pages (--max-pages); the tables map more (a recursive mapping multiplies them)',
    ]);
  });

  it('reads each empty subtree once however many entries lead to it', () => {
    const mem = new PhysMemory(0x5000);
    for (let i = 0; i < 512; i++) {
      mem
        .entry(0x1000, i, 0x2000n | P | RW)
        .entry(0x2000, i, 0x3000n | P | RW)
        .entry(0x3000, i, 0x4000n | P | RW);
    }
    const file = tempFile(mem.bytes, 'fan');
    const started = Date.now();
    expect(cli(['mappings', '--image', file, '--cr3', '0x1000', '--format', 'mem'])).toEqual({
      code: 0,
      stdout: [],
      stderr: [],
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('rejects misuse with exit 2', () => {
    const err = (args: string[]) => {
      const r = cli(['mappings', ...args]);
      expect(r.code).toBe(2);
      return r.stderr[0];
    };
    expect(err([])).toBe('pagewalk: error: needs --dump FILE or --image RAW --cr3 X');
    expect(err(['--image', raw])).toBe(
      'pagewalk: error: --image needs --cr3 X (a raw image has no CPU state)',
    );
    expect(err(['--image', raw, '--dump', raw])).toBe(
      'pagewalk: error: give either --dump FILE or --image RAW, not both',
    );
    expect(err(['--image', raw, '--cr3', '1', '--cpu', '0'])).toBe(
      'pagewalk: error: --cpu needs --dump (a raw image has no CPU state)',
    );
    expect(err(['--image', raw, '--cr3', 'zz'])).toBe(
      "pagewalk: error: --cr3 needs an address (0x-prefixed hexadecimal or decimal), got 'zz'",
    );
    expect(err(['--image', raw, '--cr3', '1', '--format', 'xml'])).toBe(
      "pagewalk: error: --format takes tlb, mem or json, not 'xml'",
    );
    expect(err(['--image', raw, '--cr3', '1', '--bogus'])).toBe(
      "pagewalk: error: unknown option '--bogus' for mappings",
    );
    expect(err(['--image', '/nonexistent/x.raw', '--cr3', '1'])).toBe(
      'pagewalk: error: cannot read /nonexistent/x.raw: no such file',
    );
  });

  it('documents the default format and the exit codes in --help', () => {
    const r = cli(['mappings', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout.join('\n')).toContain('(the default)');
    expect(r.stdout.join('\n')).toContain('Exit: 0 listed');
  });
});
