/**
 * The checks Xen's HVM handlers apply to control-register writes (hvm-paging.md R2.5), shared by
 * shadow and HAP: `hvm_set_cr0` and `hvm_set_cr4` in xen/arch/x86/hvm/hvm.c. A rejected write is a
 * #GP(0) to the guest; an accepted CR0 write drops the reserved bits and forces ET.
 *
 *   CR0 bits kept: PE MP EM TS ET NE WP AM NW CD PG (HVM_CR0_GUEST_RESERVED_BITS is the rest)
 *   CR4 bits valid for the guest (hvm_cr4_guest_valid_bits with this domain's CPUID policy):
 *     VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT FSGSBASE OSXSAVE
 */
import type { EventLog } from '../events/eventLog';
import type { ControlRegister } from '../language/host';
import { hex, raiseGeneralProtection } from '../machine/guestFaults';
import type { Vcpu } from '../machine/vcpu';

export const CR0_PE = 0x1n;
export const CR0_ET = 0x10n;
export const CR0_WP = 0x10000n;
export const CR0_PG = 0x80000000n;
const CR0_KEPT =
  0x1n | 0x2n | 0x4n | 0x8n | 0x10n | 0x20n | 0x10000n | 0x40000n | 0x20000000n | 0x40000000n | CR0_PG;

export const CR4_PSE = 0x10n;
export const CR4_PAE = 0x20n;
export const CR4_MCE = 0x40n;
export const CR4_PGE = 0x80n;
const CR4_VMXE = 1n << 13n;
const CR4_SMEP = 1n << 20n;
const CR4_SMAP = 1n << 21n;
const CR4_PKE = 1n << 22n;
export const CR4_VALID =
  0x1n |
  0x2n |
  0x4n |
  0x8n |
  CR4_PSE |
  CR4_PAE |
  CR4_MCE |
  CR4_PGE |
  0x100n |
  0x200n |
  0x400n |
  (1n << 16n) |
  (1n << 18n);

/** Initial HVM vCPU registers (R2.5): CR0 = PE|ET, CR4 = PAE, CR3 = 0, paging off. */
export const HVM_INITIAL = { cr0: CR0_PE | CR0_ET, cr3: 0n, cr4: CR4_PAE };

export type CrCheck = { ok: true; value: bigint } | { ok: false; reason: string };

/** `hvm_set_cr0`'s checks; `value` is what CR0 holds afterwards when accepted. */
export function checkCr0Write(value: bigint, cr4: bigint): CrCheck {
  if (value >> 32n !== 0n) return { ok: false, reason: 'bits 63:32 are reserved' };
  const kept = (value & CR0_KEPT) | CR0_ET;
  if ((kept & (CR0_PE | CR0_PG)) === CR0_PG) return { ok: false, reason: 'PG is set while PE is clear' };
  if ((kept & CR0_PG) !== 0n && (cr4 & CR4_PAE) === 0n) {
    return { ok: false, reason: 'PG is set while CR4.PAE is clear (EFER.LME is set)' };
  }
  return { ok: true, value: kept };
}

/** `hvm_set_cr4`'s checks. */
export function checkCr4Write(value: bigint, pagingOn: boolean): CrCheck {
  const invalid = value & ~CR4_VALID & 0xffff_ffff_ffff_ffffn;
  if (invalid !== 0n)
    return { ok: false, reason: `bit(s) 0x${invalid.toString(16)} are not valid CR4 bits for this guest` };
  if (pagingOn && (value & CR4_PAE) === 0n)
    return { ok: false, reason: 'PAE is cleared while long-mode paging is on' };
  return { ok: true, value };
}

/** HAP: CR4 bits whose change the hardware intercepts (R2.1). */
export function hapCr4InterceptMask(pagingOn: boolean): bigint {
  const mask = CR4_PAE | CR4_VMXE | CR4_MCE | CR4_PKE | (~CR4_VALID & 0xffff_ffff_ffff_ffffn);
  return pagingOn ? mask : mask | CR4_PSE | CR4_SMEP | CR4_SMAP;
}

/** R2.2: a CR4 change of PGE, PSE or PAE is a paging-mode change. */
export function isCr4ModeChange(old: bigint, value: bigint): boolean {
  return ((old ^ value) & (CR4_PGE | CR4_PSE | CR4_PAE)) !== 0n;
}

/**
 * A `mov crN` at CPL 3 (R2.1): the CPU refuses it with #GP(0) before any VM exit, so neither Xen's
 * intercept nor the paging mode (shadow or HAP) ever sees it.
 */
export function refuseCrWriteAtCpl3(
  log: EventLog,
  v: Vcpu,
  reg: ControlRegister,
  old: bigint,
  value: bigint,
): void {
  log.append({
    class: 'cr_write',
    reg,
    old,
    value,
    ok: false,
    intercepted: false,
    mode_change: false,
    shadow_made: null,
    tlb_flush: 'none',
    explanation: `mov cr${reg}, ${hex(value)} at CPL 3 is refused before any intercept — hardware: #GP`,
  });
  raiseGeneralProtection(log, v, {
    access: null,
    va: null,
    cause: 'privileged',
    rule: 'R2.1',
    what: `mov cr${reg} at CPL 3`,
    chain: 'hardware',
  });
}
