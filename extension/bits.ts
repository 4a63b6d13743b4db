/**
 * Bit layouts the views and the hover decode, as tables next to their masks (Bochs's "Format of …"
 * blocks). Values arrive as `"0x…"` strings from the adapter and become `bigint` only here.
 *
 *   x86-64 page-table entry            CR0                       CR4
 *   63     NX  no execute              31 PG  paging             7 PGE global pages
 *   51:12  PFN target frame            16 WP  write protect      5 PAE
 *   8      G   global                   0 PE  protected mode     4 PSE
 *   7      PS  large page (L2/L3)
 *   6 D dirty · 5 A accessed · 4 PCD · 3 PWT · 2 US user · 1 RW writable · 0 P present
 */

export interface BitField {
  name: string;
  /** Highest and lowest bit, inclusive. */
  hi: number;
  lo: number;
  description: string;
}

const bit = (name: string, n: number, description: string): BitField => ({ name, hi: n, lo: n, description });

export const PTE_FIELDS: readonly BitField[] = [
  bit('P', 0, 'present'),
  bit('RW', 1, 'writable'),
  bit('US', 2, 'user accessible'),
  bit('PWT', 3, 'write-through'),
  bit('PCD', 4, 'cache disable'),
  bit('A', 5, 'accessed'),
  bit('D', 6, 'dirty'),
  bit('PS', 7, 'large page (L2/L3)'),
  bit('G', 8, 'global'),
  { name: 'PFN', hi: 51, lo: 12, description: 'target frame number' },
  bit('NX', 63, 'no execute'),
];

export const CR0_FIELDS: readonly BitField[] = [
  bit('PE', 0, 'protected mode'),
  bit('MP', 1, 'monitor coprocessor'),
  bit('TS', 3, 'task switched'),
  bit('ET', 4, 'extension type'),
  bit('NE', 5, 'numeric error'),
  bit('WP', 16, 'write protect (supervisor writes honour RW)'),
  bit('AM', 18, 'alignment mask'),
  bit('PG', 31, 'paging enabled'),
];

export const CR4_FIELDS: readonly BitField[] = [
  bit('PSE', 4, 'page size extensions'),
  bit('PAE', 5, 'physical address extension'),
  bit('MCE', 6, 'machine check'),
  bit('PGE', 7, 'global pages'),
  bit('OSFXSR', 9, 'FXSAVE support'),
  bit('OSXMMEXCPT', 10, 'SIMD exceptions'),
];

export const CR3_FIELDS: readonly BitField[] = [
  bit('PWT', 3, 'write-through'),
  bit('PCD', 4, 'cache disable'),
  { name: 'PFN', hi: 51, lo: 12, description: 'root table frame' },
];

export function fieldValue(value: bigint, f: BitField): bigint {
  return (value >> BigInt(f.lo)) & ((1n << BigInt(f.hi - f.lo + 1)) - 1n);
}

export function parseHex(text: string): bigint {
  try {
    return BigInt(text);
  } catch {
    return 0n;
  }
}

export function hex(value: bigint | number): string {
  return `0x${value.toString(16)}`;
}

/** The names of the single-bit fields set in `value`. */
export function setFlags(value: bigint, fields: readonly BitField[]): string[] {
  return fields.filter((f) => f.hi === f.lo && fieldValue(value, f) !== 0n).map((f) => f.name);
}

/** 64 bits in groups of four, high to low: easier to match against a bit table than a hex number. */
export function binary(value: bigint): string {
  const bits = value.toString(2).padStart(64, '0');
  return bits.replace(/(.{4})(?=.)/g, '$1 ');
}

/** A Markdown table of every field: bit range, name, value, meaning. */
export function bitTableMarkdown(value: bigint, fields: readonly BitField[]): string {
  const rows = fields.map((f) => {
    const range = f.hi === f.lo ? `${f.lo}` : `${f.hi}:${f.lo}`;
    const v = fieldValue(value, f);
    const shown = f.hi === f.lo ? (v ? '1' : '0') : hex(v);
    return `| ${range} | ${f.name} | ${shown} | ${f.description} |`;
  });
  return ['| bit | field | value | meaning |', '|---:|---|---|---|', ...rows].join('\n');
}

/** The tooltip body every decoded value shares: hex, binary, then the bit table. */
export function describeValueMarkdown(title: string, value: bigint, fields: readonly BitField[]): string {
  return `**${title}** \`${hex(value)}\`\n\n\`${binary(value)}\`\n\n${bitTableMarkdown(value, fields)}`;
}

/** Bytes covered by one entry of a table at `level` (1 = 4 KiB … 4 = 512 GiB). */
export function entrySpan(level: number): bigint {
  return 1n << BigInt(12 + 9 * (level - 1));
}

export function formatSize(bytes: bigint): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes;
  let u = 0;
  while (n >= 1024n && n % 1024n === 0n && u < units.length - 1) {
    n /= 1024n;
    u++;
  }
  return `${n} ${units[u]}`;
}
