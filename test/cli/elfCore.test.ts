import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main';
import { readElfCore } from '../../cli/elfCore';
import { BufferSource } from '../../cli/guestImage';
import { CR4_PAE, elfCore, standardTables, tempFile } from './guestImageBuilder';

function cli(args: string[]): { code: number; stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = main(args, { stdout: (l) => stdout.push(l), stderr: (l) => stderr.push(l) });
  return { code, stdout, stderr };
}

const tables = standardTables().bytes;
const rawTlb = cli(['mappings', '--image', tempFile(tables), '--cr3', '0x1000']).stdout;

/**
 * The standard tables split over two PT_LOADs; vCPU 1 uses PDPT 0x6000 as its PML4, vCPU 2 has paging
 * off and vCPU 3 32-bit paging.
 */
function core(stateSize?: number): Uint8Array {
  return elfCore({
    segments: [
      [0, tables.subarray(0, 0x3000)],
      [0x3000, tables.subarray(0x3000)],
    ],
    cpus: [
      { cr3: 0x1000n },
      { cr3: 0x6000n },
      { cr0: 0x11n, cr3: 0n },
      { cr0: 0x80000011n, cr3: 0x1000n, cr4: 0n },
    ],
    stateSize,
  });
}

describe('ELF cores from dump-guest-memory', () => {
  it('reads PT_LOAD segments and the QEMU notes of every vCPU', () => {
    const bytes = core();
    const c = readElfCore('x', new BufferSource(bytes));
    expect(c.cpus.map((cpu) => [cpu.index, cpu.cr3])).toEqual([
      [0, 0x1000n],
      [1, 0x6000n],
      [2, 0n],
      [3, 0x1000n],
    ]);
    expect(c.prstatusCount).toBe(4);
    expect(c.image.describeHeld()).toBe('physical 0x0-0x7fff');
    // Segment 2's bytes follow segment 1's: physical 0x3000 is at the start of the second block.
    const dataStart = 64 + 3 * 56 + 4 * (20 + 336) + 4 * (20 + 440);
    expect(c.image.fileOffsetOf(0x3000)).toBe(dataStart + 0x3000);
  });

  it('takes CR3 from vCPU 0 by default, --cpu N picks another, --cr3 overrides', () => {
    const file = tempFile(core(), 'core');
    expect(cli(['mappings', '--dump', file])).toEqual({ code: 0, stdout: rawTlb, stderr: [] });
    expect(cli(['mappings', '--dump', file, '--cpu', '1']).stdout).toEqual([
      // PD 0x7000's 2 MiB entries read as 1 GiB PDPTEs: QEMU masks the address to bits 49..30.
      '0000000000000000: 0000000000000000 XGPDA---W',
      '0000000040000000: 0000000000000000 XGPDA---W',
    ]);
    expect(cli(['mappings', '--dump', file, '--cpu', '1', '--cr3', '0x1000']).stdout).toEqual(rawTlb);
    expect(cli(['mappings', '--dump', tempFile(core(432), 'old')]).stdout).toEqual(rawTlb);
  });

  it("prints QEMU's 'PG disabled' for a vCPU with paging off", () => {
    const file = tempFile(core(), 'core');
    expect(cli(['mappings', '--dump', file, '--cpu', '2'])).toEqual({
      code: 0,
      stdout: ['PG disabled'],
      stderr: [],
    });
    expect(cli(['mappings', '--dump', file, '--cpu', '2', '--format', 'mem']).stdout).toEqual([
      'PG disabled',
    ]);
    expect(
      JSON.parse(cli(['mappings', '--dump', file, '--cpu', '2', '--format', 'json']).stdout[0]),
    ).toMatchObject({
      status: 'ok',
      cpu: 2,
      paging: 'disabled',
      ranges: [],
    });
  });

  it('rejects 32-bit paging, a missing vCPU and a core without QEMU notes', () => {
    const file = tempFile(core(), 'core');
    const noteAt = 64 + 3 * 56 + 4 * (20 + 336) + 3 * (20 + 440);
    expect(cli(['mappings', '--dump', file, '--cpu', '3'])).toEqual({
      code: 2,
      stdout: [],
      stderr: [
        `pagewalk: error: vCPU 3 of ${file} uses 32-bit paging (CR4 0x0 has PAE clear; note at offset 0x${noteAt.toString(16)}): pagewalk reads x86-64 tables only`,
      ],
    });
    expect(cli(['mappings', '--dump', file, '--cpu', '7']).stderr).toEqual([
      `pagewalk: error: ${file} has CPU-state notes for vCPUs 0-3, not for vCPU 7`,
    ]);
    const bare = tempFile(elfCore({ segments: [[0, tables]], cpus: [] }), 'bare');
    expect(cli(['mappings', '--dump', bare]).stderr).toEqual([
      `pagewalk: error: ${bare} has no QEMU CPU-state note (name QEMU, type 0) to read CR3 from; give --cr3 X`,
    ]);
    expect(cli(['mappings', '--dump', bare, '--cr3', '0x1000']).stdout).toEqual(rawTlb);
  });

  it('reports a truncated dump with the segment and the file offsets concerned', () => {
    const bytes = core();
    const cut = tempFile(bytes.subarray(0, bytes.length - 0x100), 'cut');
    const size = bytes.length - 0x100;
    const seg2 = bytes.length - 0x5000;
    expect(cli(['mappings', '--dump', cut])).toEqual({
      code: 2,
      stdout: [],
      stderr: [
        `pagewalk: error: ${cut}: truncated: PT_LOAD 2 (program header at 0xb0) holds physical 0x3000-0x7fff at file offsets ` +
          `0x${seg2.toString(16)}-0x${(seg2 + 0x4fff).toString(16)}, but the file ends at 0x${size.toString(16)}`,
      ],
    });
    const head = tempFile(bytes.subarray(0, 40), 'head');
    expect(cli(['mappings', '--dump', head]).stderr).toEqual([
      `pagewalk: error: ${head}: truncated: the ELF header at offset 0x0 needs 64 bytes but the file ends at 0x28`,
    ]);
    const phdrs = tempFile(bytes.subarray(0, 100), 'phdrs');
    expect(cli(['walk', '--dump', phdrs, '0']).stderr).toEqual([
      `pagewalk: error: ${phdrs}: truncated: the program header table (3 entries) at offset 0x40 needs 168 bytes but the file ends at 0x64`,
    ]);
  });

  it('reports a corrupt note with its offset', () => {
    const bytes = core().slice();
    const noteAt = 64 + 3 * 56;
    new DataView(bytes.buffer).setUint32(noteAt + 4, 0x100000, true); // descsz far past the segment
    const file = tempFile(bytes, 'badnote');
    expect(cli(['mappings', '--dump', file]).stderr).toEqual([
      `pagewalk: error: ${file}: corrupt: the note at offset 0x${noteAt.toString(16)} (namesz 5, descsz 1048576) runs past the end of its PT_NOTE segment (0x${(noteAt + 4 * (20 + 336) + 4 * (20 + 440)).toString(16)})`,
    ]);
  });

  it('recognises files that are not ELF cores', () => {
    const err = (bytes: Uint8Array) =>
      cli(['mappings', '--dump', tempFile(bytes, 'other')]).stderr[0].replace(/^.*?: /, '');
    const ascii = (s: string) => new Uint8Array([...s].map((c) => c.charCodeAt(0)));
    expect(err(ascii('KDUMP   and more'))).toMatch(/other-\d+\.bin: a kdump-compressed dump/);
    expect(err(ascii('PAGEDU64........'))).toMatch(/a Windows crash dump/);
    expect(err(ascii('hello, world....'))).toMatch(
      /not an ELF core: bad magic at offset 0x0 \(for a raw physical memory image/,
    );
    const elf32 = core().slice();
    elf32[4] = 1;
    expect(err(elf32)).toMatch(/a 32-bit ELF core \(EI_CLASS 1 at offset 0x4\)/);
    const i386 = core().slice();
    i386[18] = 3;
    expect(err(i386)).toMatch(/e_machine EM_386 at offset 0x12/);
  });

  it('skips a block left out by the begin/length filter and holds only p_filesz bytes', () => {
    const bytes = elfCore({ segments: [[0, tables]], cpus: [{ cr3: 0x1000n, cr4: CR4_PAE }] }).slice();
    const v = new DataView(bytes.buffer);
    // Program header 1 keeps 0x4000 bytes of 0x8000: PT 0x4000 is then outside what the file holds.
    v.setBigUint64(64 + 56 + 32, 0x4000n, true);
    const file = tempFile(bytes, 'filtered');
    const r = cli(['mappings', '--dump', file]);
    expect(r.code).toBe(3);
    expect(r.stderr[0]).toMatch(
      /the PT at physical 0x4000 is not in the image \(named by the PD entry at physical 0x3000 \(file offset 0x[0-9a-f]+\)/,
    );
  });

  it('reads a namesz of 0xffffffff as corrupt, not as a small note', () => {
    const bytes = core().slice();
    new DataView(bytes.buffer).setUint32(64 + 3 * 56, 0xffffffff, true);
    expect(cli(['mappings', '--dump', tempFile(bytes, 'name')]).stderr[0]).toMatch(
      /corrupt: the note at offset 0xe8 \(namesz 4294967295/,
    );
  });

  it('lists the sample dump of examples/dumps (scripts/make-sample-dump.mjs)', () => {
    const sample = fileURLToPath(new URL('../../examples/dumps/sample.elf', import.meta.url));
    const r = cli(['mappings', '--dump', sample]);
    expect(r.code).toBe(0);
    expect(r.stdout).toHaveLength(17);
    expect(r.stdout[0]).toBe('0000000000400000: 0000000000007000 ----A--U-');
    expect(r.stdout.at(-2)).toBe('ffffffff81000000: 0000000001000000 -GP-A----');
    expect(cli(['mappings', '--dump', sample, '--cpu', '1', '--format', 'mem']).stdout).toHaveLength(16);
  });
});
