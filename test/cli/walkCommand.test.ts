import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main';
import {
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
const walk = (va: string, ...more: string[]) => cli(['walk', '--image', raw, '--cr3', '0x1000', ...more, va]);

const PML4_0 = 'PML4  table 0x0000000000001000  index   0  entry 0x0000000000002007  P|RW|US';
const PDPT_0 = 'PDPT  table 0x0000000000002000  index   0  entry 0x0000000000003007  P|RW|US';
const PD_0 = 'PD    table 0x0000000000003000  index   0  entry 0x0000000000004027  P|RW|US|A';

describe('pagewalk walk', () => {
  it('prints every level and the physical address of a 4 KiB page', () => {
    expect(walk('0x2345')).toEqual({
      code: 0,
      stdout: [
        'walk of 0x2345 with CR3 0x1000 (4-level paging)',
        PML4_0,
        PDPT_0,
        PD_0,
        'PT    table 0x0000000000004000  index   2  entry 0x000000000000709f  P|RW|US|PWT|PCD|PAT',
        'physical 0x0000000000007345 (4 KiB page at 0x0000000000007000; user, writable, executable)',
      ],
      stderr: [],
    });
    expect(walk('0x1000').stdout.slice(4)).toEqual([
      'PT    table 0x0000000000004000  index   1  entry 0x8000000000006105  P|US|G|NX',
      'physical 0x0000000000006000 (4 KiB page at 0x0000000000006000; user, read-only, no-execute)',
    ]);
  });

  it('stops at a 2 MiB and a 1 GiB page, with the rights of every level combined', () => {
    expect(walk('0xffff800000201234').stdout).toEqual([
      'walk of 0xffff800000201234 with CR3 0x1000 (4-level paging)',
      'PML4  table 0x0000000000001000  index 256  entry 0x0000000000006003  P|RW',
      'PDPT  table 0x0000000000006000  index   0  entry 0x0000000000007003  P|RW',
      'PD    table 0x0000000000007000  index   1  entry 0x80000000002001e3  P|RW|A|D|PS|G|NX',
      'physical 0x0000000000201234 (2 MiB page at 0x0000000000200000; supervisor, writable, no-execute)',
    ]);
    expect(walk('1073746484').stdout).toEqual([
      'walk of 0x40001234 with CR3 0x1000 (4-level paging)',
      PML4_0,
      'PDPT  table 0x0000000000002000  index   1  entry 0x0000000040001187  P|RW|US|PS|G|PAT',
      'physical 0x0000000040001234 (1 GiB page at 0x0000000040000000; user, writable, executable)',
    ]);
  });

  it('walks through the recursive self-map, the same table at every level', () => {
    const self = 'table 0x0000000000001000  index 511  entry 0x0000000000001003  P|RW';
    expect(walk('0xfffffffffffff008')).toEqual({
      code: 0,
      stdout: [
        'walk of 0xfffffffffffff008 with CR3 0x1000 (4-level paging)',
        `PML4  ${self}`,
        `PDPT  ${self}`,
        `PD    ${self}`,
        `PT    ${self}`,
        'physical 0x0000000000001008 (4 KiB page at 0x0000000000001000; supervisor, writable, executable)',
      ],
      stderr: [],
    });
  });

  it('says where and why a walk faults: not present, reserved bit, non-canonical (exit 1)', () => {
    expect(walk('0x6000')).toEqual({
      code: 1,
      stdout: [
        'walk of 0x6000 with CR3 0x1000 (4-level paging)',
        PML4_0,
        PDPT_0,
        PD_0,
        'PT    table 0x0000000000004000  index   6  entry 0x0000000000000000  -',
        'fault: the PT entry at physical 0x4030 is not present (P clear)',
      ],
      stderr: [],
    });
    expect(walk('0x8000000000').stdout.slice(1)).toEqual([
      'PML4  table 0x0000000000001000  index   1  entry 0x0000000000000000  -',
      'fault: the PML4 entry at physical 0x1008 is not present (P clear)',
    ]);
    expect(walk('0x0000800000000000')).toEqual({
      code: 1,
      stdout: [
        'fault: 0x800000000000 is not canonical (bits 63..47 must all equal bit 47): a #GP, no page walk',
      ],
      stderr: [],
    });
    // info tlb prints this entry as a 1 GiB page; the CPU refuses it: bits 29..13 must be clear.
    const bad = tempFile(standardTables().entry(0x2000, 2, 0x80200000n | P | RW | PS).bytes, 'reserved');
    expect(cli(['walk', '--image', bad, '--cr3', '0x1000', '0x80000000']).stdout.slice(2)).toEqual([
      'PDPT  table 0x0000000000002000  index   2  entry 0x0000000080200083  P|RW|PS',
      'fault: the PDPT entry at physical 0x2010 sets a reserved bit: a 1 GiB page needs address bits 29..13 clear',
    ]);
    const ps4 = tempFile(standardTables().entry(0x1000, 2, 0x2000n | P | RW | PS).bytes, 'ps4');
    expect(cli(['walk', '--image', ps4, '--cr3', '0x1000', '0x10000000000']).stdout.slice(2)).toEqual([
      'fault: the PML4 entry at physical 0x1010 sets a reserved bit: PS (bit 7) is reserved in a PML4 entry',
    ]);
  });

  it('reports a table outside the image with the entry naming it (exit 3)', () => {
    const file = tempFile(standardTables().entry(0x3000, 3, 0x100000n | P | RW).bytes, 'outside');
    expect(cli(['walk', '--image', file, '--cr3', '0x1000', '0x600000'])).toEqual({
      code: 3,
      stdout: [
        'walk of 0x600000 with CR3 0x1000 (4-level paging)',
        PML4_0,
        PDPT_0,
        'PD    table 0x0000000000003000  index   3  entry 0x0000000000100003  P|RW',
      ],
      stderr: [
        `pagewalk: error: the PT at physical 0x100000 is not in the image (named by the PD entry at physical 0x3018; ${file} holds physical 0x0-0x7fff)`,
      ],
    });
  });

  it('walks a dump with the vCPU note, 5-level paging with LA57, and paging off', () => {
    const mem = new PhysMemory(0x4000)
      .entry(0x1000, 511, 0x2000n | P | RW | US)
      .entry(0x2000, 0, 0x3000n | P | RW | US)
      .entry(0x3000, 0, 0x40000000n | P | RW | PS);
    const file = tempFile(
      elfCore({
        segments: [[0, mem.bytes]],
        cpus: [
          { cr3: 0x1000n, cr4: CR4_PAE | CR4_LA57 },
          { cr0: 0x11n, cr3: 0n },
        ],
      }),
      'la57',
    );
    expect(cli(['walk', '--dump', file, '0xffff000000001234'])).toEqual({
      code: 0,
      stdout: [
        'walk of 0xffff000000001234 with CR3 0x1000 (vCPU 0, 5-level paging)',
        'PML5  table 0x0000000000001000  index 511  entry 0x0000000000002007  P|RW|US',
        'PML4  table 0x0000000000002000  index   0  entry 0x0000000000003007  P|RW|US',
        'PDPT  table 0x0000000000003000  index   0  entry 0x0000000040000083  P|RW|PS',
        'physical 0x0000000040001234 (1 GiB page at 0x0000000040000000; supervisor, writable, executable)',
      ],
      stderr: [],
    });
    expect(cli(['walk', '--dump', file, '0xffff000000001234', '--cpu', '1']).stdout).toEqual([
      'paging disabled (CR0.PG clear on vCPU 1): physical 0xffff000000001234',
    ]);
    expect(cli(['walk', '--dump', file, '0x0100000000000000']).stdout).toEqual([
      'fault: 0x100000000000000 is not canonical (bits 63..56 must all equal bit 56): a #GP, no page walk',
    ]);
    const outside = tempFile(mem.entry(0x1000, 5, 0x9000n | P | RW).bytes, 'la57-out');
    expect(cli(['walk', '--image', outside, '--cr3', '0x1000', '--la57', '0x5000000000000']).stderr).toEqual([
      `pagewalk: error: the PML4 at physical 0x9000 is not in the image (named by the PML5 entry at physical 0x1028; ${outside} holds physical 0x0-0x3fff)`,
    ]);
  });

  it('rejects misuse and unusable input with exit 2', () => {
    expect(cli(['walk', '--image', raw, '--cr3', '0x1000'])).toEqual({
      code: 2,
      stdout: [],
      stderr: ['pagewalk: error: walk needs a virtual address VA'],
    });
    expect(cli(['walk', '--image', raw, '--cr3', '0x1000', '0x1', '0x2']).stderr).toEqual([
      "pagewalk: error: walk takes one VA, got a second: '0x2'",
    ]);
    expect(cli(['walk', '--image', raw, '--cr3', '0x1000', 'ffff8000']).stderr).toEqual([
      "pagewalk: error: VA needs an address (0x-prefixed hexadecimal or decimal), got 'ffff8000'",
    ]);
    expect(cli(['walk', '--image', raw, '--cr3', '0x9000', '0x0']).stderr).toEqual([
      `pagewalk: error: CR3 0x9000 names the PML4 table at physical 0x9000, which is not in the image (${raw} holds physical 0x0-0x7fff)`,
    ]);
    expect(cli(['walk', '--help']).stdout[0].split('\n')[0]).toBe(
      'Usage: pagewalk walk (--dump FILE | --image RAW --cr3 X) VA',
    );
  });
});

describe('pagewalk --help', () => {
  it('lists mappings and walk', () => {
    const help = cli(['--help']).stdout.join('\n');
    expect(help).toContain('pagewalk mappings (--dump FILE | --image RAW --cr3 X)');
    expect(help).toContain('pagewalk walk (--dump FILE | --image RAW --cr3 X) VA');
  });
});
