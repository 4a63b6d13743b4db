/**
 * Delivering a guest-visible fault (guest-language.md § Faults): the vCPU's `fault`, `fault_addr`
 * (CR2, only for #PF) and `fault_code` registers change, and one `fault` event is logged with its
 * explanation. Every domain model raises faults through here so the registers and the event never
 * disagree.
 */
import type { AccessKind, FaultCause, FaultEntryRef } from '../events/eventTypes';
import type { EventLog } from '../events/eventLog';
import { describeErrorCode } from '../paging/pte';
import { FAULT_GP, FAULT_NONE, FAULT_PF } from './vcpu';
import type { Vcpu } from './vcpu';

export interface PageFaultInfo {
  readonly addr: bigint;
  readonly code: number;
  readonly access: AccessKind | null;
  readonly va: bigint | null;
  readonly cause: FaultCause;
  readonly level: number | null;
  readonly entry: FaultEntryRef | null;
  readonly rule: string;
  /** WHAT part of the explanation (events.md §5), e.g. `read at 0x1000 faulted: L1 entry 1 of gfn 0x3 is not present`. */
  readonly what: string;
  /** CHAIN part: Xen functions outermost first joined by ` → `, or `hardware`. */
  readonly chain: string;
}

export function raisePageFault(log: EventLog, v: Vcpu, f: PageFaultInfo): void {
  v.state.fault = FAULT_PF;
  v.state.faultAddr = f.addr;
  v.state.faultCode = BigInt(f.code);
  log.append({
    class: 'fault',
    fault: 'PF',
    fault_addr: f.addr,
    fault_code: BigInt(f.code),
    access: f.access,
    va: f.va,
    cause: f.cause,
    level: f.level,
    entry: f.entry,
    rule: f.rule,
    explanation: `${f.what} \u2014 ${f.chain}: #PF ${describeErrorCode(f.code)}`,
  });
}

export interface GeneralProtectionInfo {
  readonly access: AccessKind | null;
  readonly va: bigint | null;
  readonly cause: FaultCause;
  readonly rule: string;
  readonly what: string;
  readonly chain: string;
}

/** #GP(0): `fault_addr` keeps its value, as CR2 does. */
export function raiseGeneralProtection(log: EventLog, v: Vcpu, g: GeneralProtectionInfo): void {
  v.state.fault = FAULT_GP;
  v.state.faultCode = 0n;
  log.append({
    class: 'fault',
    fault: 'GP',
    fault_addr: v.state.faultAddr,
    fault_code: 0n,
    access: g.access,
    va: g.va,
    cause: g.cause,
    level: null,
    entry: null,
    rule: g.rule,
    explanation: `${g.what} \u2014 ${g.chain}: #GP`,
  });
}

/** A statement that can fault completed without a guest-visible fault. */
export function clearFault(v: Vcpu): void {
  v.state.fault = FAULT_NONE;
}

export function hex(value: bigint | number): string {
  return '0x' + value.toString(16);
}

/** `read at 0x…`, `write to 0x…`, `fetch at 0x…` */
export function describeAccess(access: AccessKind, va: bigint): string {
  return access === 'write' ? `write to ${hex(va)}` : `${access} at ${hex(va)}`;
}
