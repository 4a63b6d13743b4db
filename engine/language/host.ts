/**
 * The boundary between the guest-language interpreter and the machine it drives.
 *
 * The interpreter owns control flow (frames, variables, the round-robin scheduler, step numbering);
 * the machine owns every piece of hardware and hypervisor state (memory, registers, TLBs, frame
 * table, shadows) and logs the hypervisor's events. All guest values are unsigned 64-bit integers,
 * carried as non-negative `bigint`s below 2^64.
 *
 * Errors: a machine operation that hits a run-time error of `guest-language.md` § Errors throws
 * `GuestRuntimeError`; `scope: 'domain'` means the domain crashed and every vCPU of it stops.
 */

export type AccessSize = 1 | 2 | 4 | 8;
export type ControlRegister = 0 | 3 | 4;
export type PrivilegeMode = 'kernel' | 'user';

export type RegisterName = 'cr0' | 'cr3' | 'cr4' | 'rc' | 'done' | 'fault' | 'fault_addr' | 'fault_code';

export const MMUEXT_OPS = [
  'pin_l1_table',
  'pin_l2_table',
  'pin_l3_table',
  'pin_l4_table',
  'unpin_table',
  'new_baseptr',
  'new_user_baseptr',
  'tlb_flush_local',
  'invlpg_local',
  'tlb_flush_all',
  'invlpg_all',
] as const;
export type MmuextOp = (typeof MMUEXT_OPS)[number];

export interface MmuUpdateRequest {
  readonly ptr: bigint;
  readonly val: bigint;
}

/** Where the statement being executed is, for the event envelope and for error positions. */
export interface StepContext {
  readonly step: number;
  /** 1-based source line of the statement (inside a proc, the line in the proc's body). */
  readonly line: number;
}

/**
 * The machine as the interpreter sees it: its vCPUs, and the event log's envelope.
 * `beginStep` is called before every step so that events the step logs carry its envelope.
 */
export interface MachineHost {
  vcpu(domainName: string, index: number): VcpuHost;
  beginStep(vcpu: VcpuHost, ctx: StepContext): void;
  /** Logs an event of the interpreter's own (`expect_failed`) with the current envelope. */
  logExpectFailed(
    text: string,
    message: string | null,
    values: readonly { name: string; value: bigint | string }[],
  ): void;
}

export class GuestRuntimeError extends Error {
  constructor(
    message: string,
    /** 'vcpu': stops this vCPU; 'domain': the domain crashed, every vCPU of it stops. */
    readonly scope: 'vcpu' | 'domain' = 'vcpu',
  ) {
    super(message);
    this.name = 'GuestRuntimeError';
  }
}

/**
 * One virtual CPU as the interpreter sees it. Every method that a statement of
 * `guest-language.md` § Statements performs has one entry here; the machine applies the rules of
 * the domain's kind (PV, HVM shadow, HVM HAP) and logs the events.
 */
export interface VcpuHost {
  readonly domainName: string;
  readonly domainId: number;
  readonly index: number;
  readonly mode: PrivilegeMode;

  /** A data read; on a guest-visible fault returns 0n and sets the fault registers. */
  read(size: AccessSize, addr: bigint): bigint;
  write(size: AccessSize, addr: bigint, value: bigint): void;
  fetch(addr: bigint): void;
  movCr(reg: ControlRegister, value: bigint): void;
  invlpg(addr: bigint): void;
  setMode(mode: PrivilegeMode): void;
  halt(): void;

  mmuUpdate(requests: readonly MmuUpdateRequest[], foreign: string | null): void;
  mmuext(op: MmuextOp, arg: bigint): void;
  updateVaMapping(va: bigint, val: bigint, flags: bigint): void;

  register(name: RegisterName): bigint;

  /**
   * A built-in function of `guest-language.md` § Built-ins other than the pure ones the
   * interpreter computes itself (`va`, `l1_index`…`l4_index`, `gpa`, `pte_addr`).
   * `effects` false: the debugger's side-effect-free evaluation (`events.md` §6.3): `read*` peeks
   * along `translate`, a read that would fault throws `EvaluationError`, `alloc` throws.
   */
  callBuiltin(name: HostBuiltin, args: readonly bigint[], effects: boolean): bigint;
}

/** Built-ins answered by the machine. */
export const HOST_BUILTINS = [
  'alloc',
  'mfn',
  'pfn',
  'read8',
  'read16',
  'read32',
  'read64',
  'read',
  'type_of',
  'type_count',
  'ref_count',
  'pinned',
  'validated',
  'owner',
  'translate',
  'guest_translate',
  'tlb_lookup',
  'shadowed',
  'shadow_count',
  'write_protected',
  'out_of_sync',
] as const;
export type HostBuiltin = (typeof HOST_BUILTINS)[number];

/** Raised by side-effect-free evaluation (`events.md` §6.3); the debugger shows the message. */
export class EvaluationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvaluationError';
  }
}
