/**
 * The built-in names of `guest-language.md` § Built-ins: constants, registers and functions, with
 * the pure functions the interpreter computes itself. Every one of these names is reserved.
 */
import type { PureBuiltin } from './ast';
import { GuestRuntimeError, HOST_BUILTINS } from './host';
import type { HostBuiltin, RegisterName } from './host';

export const MAX_U64 = (1n << 64n) - 1n;

export const BUILTIN_CONSTANTS: ReadonlyMap<string, bigint> = new Map<string, bigint>([
  // PTE bits
  ['P', 0x1n],
  ['RW', 0x2n],
  ['US', 0x4n],
  ['PWT', 0x8n],
  ['PCD', 0x10n],
  ['A', 0x20n],
  ['D', 0x40n],
  ['PS', 0x80n],
  ['G', 0x100n],
  ['NX', 1n << 63n],
  // CR0 and CR4 bits
  ['PE', 0x1n],
  ['MP', 0x2n],
  ['TS', 0x8n],
  ['ET', 0x10n],
  ['NE', 0x20n],
  ['WP', 0x10000n],
  ['AM', 0x40000n],
  ['PG', 0x80000000n],
  ['PSE', 0x10n],
  ['PAE', 0x20n],
  ['MCE', 0x40n],
  ['PGE', 0x80n],
  ['OSFXSR', 0x200n],
  ['OSXMMEXCPT', 0x400n],
  // fault vectors and #PF error-code bits
  ['NOFAULT', 0n],
  ['GP', 13n],
  ['PF', 14n],
  ['PF_P', 0x1n],
  ['PF_W', 0x2n],
  ['PF_U', 0x4n],
  ['PF_RSVD', 0x8n],
  ['PF_I', 0x10n],
  // errno values (positive; a hypercall returns the negation)
  ['EPERM', 1n],
  ['ENOENT', 2n],
  ['ESRCH', 3n],
  ['ENOMEM', 12n],
  ['EFAULT', 14n],
  ['EBUSY', 16n],
  ['EINVAL', 22n],
  ['ENOSYS', 38n],
  ['EOPNOTSUPP', 95n],
  // frame types, Xen's encoding
  ['NONE', 0n],
  ['L1', 1n],
  ['L2', 2n],
  ['L3', 3n],
  ['L4', 4n],
  ['SEG_DESC', 5n],
  ['WRITABLE', 7n],
  // mmu_update commands and update_va_mapping flags
  ['MMU_NORMAL_PT_UPDATE', 0n],
  ['MMU_MACHPHYS_UPDATE', 1n],
  ['MMU_PT_UPDATE_PRESERVE_AD', 2n],
  ['MMU_PT_UPDATE_NO_TRANSLATE', 3n],
  ['UVMF_NONE', 0n],
  ['UVMF_TLB_FLUSH', 1n],
  ['UVMF_INVLPG', 2n],
  ['UVMF_LOCAL', 0n],
  ['UVMF_ALL', 4n],
  ['DOMID_SELF', 0x7ff0n],
  ['DOMID_XEN', 0x7ff2n],
]);

export const REGISTERS: ReadonlySet<string> = new Set<RegisterName>([
  'cr0',
  'cr3',
  'cr4',
  'rc',
  'done',
  'fault',
  'fault_addr',
  'fault_code',
]);

export function isRegister(name: string): name is RegisterName {
  return REGISTERS.has(name);
}

export const PURE_BUILTINS: ReadonlySet<string> = new Set<PureBuiltin>([
  'va',
  'l1_index',
  'l2_index',
  'l3_index',
  'l4_index',
  'gpa',
  'pte_addr',
]);

const HOST_BUILTIN_SET: ReadonlySet<string> = new Set<string>(HOST_BUILTINS);

export function isHostBuiltin(name: string): name is HostBuiltin {
  return HOST_BUILTIN_SET.has(name);
}

/** Argument counts: [min, max]. */
const ARITY = new Map<string, readonly [number, number]>([
  ['va', [4, 5]],
  ['l1_index', [1, 1]],
  ['l2_index', [1, 1]],
  ['l3_index', [1, 1]],
  ['l4_index', [1, 1]],
  ['gpa', [1, 1]],
  ['pte_addr', [2, 2]],
  ['domid', [1, 1]],
  ['alloc', [0, 0]],
  ['shadow_count', [0, 0]],
]);

/** The argument counts of a built-in function, or undefined for a name that is none. */
export function builtinArity(name: string): readonly [number, number] | undefined {
  return ARITY.get(name) ?? (HOST_BUILTIN_SET.has(name) ? [1, 1] : undefined);
}

export function isBuiltinFunction(name: string): boolean {
  return builtinArity(name) !== undefined;
}

/** Reserved words other than keywords; `describeReserved` names what each one is. */
export function describeReserved(name: string): string | null {
  if (BUILTIN_CONSTANTS.has(name)) return 'a built-in constant';
  if (REGISTERS.has(name)) return 'a register';
  if (isBuiltinFunction(name)) return 'a built-in function';
  return null;
}

/** Byte size of each `read*` built-in: the interpreter calls `VcpuHost.read` directly for them. */
export const READ_SIZES: ReadonlyMap<string, 1 | 2 | 4 | 8> = new Map([
  ['read8', 1],
  ['read16', 2],
  ['read32', 4],
  ['read64', 8],
  ['read', 8],
] as const);

function checkIndex(fn: string, what: string, value: bigint, max: bigint): void {
  if (value > max) {
    throw new GuestRuntimeError(`${fn}: ${what} 0x${value.toString(16)} is above 0x${max.toString(16)}`);
  }
}

/** The canonical address with those table indices: bit 47 is copied into bits 63…48. */
export function va(i4: bigint, i3: bigint, i2: bigint, i1: bigint, off: bigint): bigint {
  checkIndex('va', 'index', i4, 511n);
  checkIndex('va', 'index', i3, 511n);
  checkIndex('va', 'index', i2, 511n);
  checkIndex('va', 'index', i1, 511n);
  checkIndex('va', 'offset', off, 0xfffn);
  const address = (i4 << 39n) | (i3 << 30n) | (i2 << 21n) | (i1 << 12n) | off;
  return i4 >= 256n ? address | 0xffff_0000_0000_0000n : address;
}

export function tableIndex(level: 1 | 2 | 3 | 4, address: bigint): bigint {
  return (address >> BigInt(12 + 9 * (level - 1))) & 511n;
}

export function gpa(pfn: bigint): bigint {
  return BigInt.asUintN(64, pfn << 12n);
}

export function pteAddr(frame: bigint, index: bigint): bigint {
  checkIndex('pte_addr', 'index', index, 511n);
  return BigInt.asUintN(64, frame << 12n) | (index * 8n);
}
