/**
 * What each domain kind implements: the PV memory manager (`engine/pv`), shadow paging
 * (`engine/shadow`) and HAP (`engine/hap`). The machine routes every statement of a vCPU to its
 * domain's model; the model applies the hypervisor's rules, updates the vCPU's registers (`rc`,
 * `done`, `fault*`) and logs the events of `events.md` through `machine.log`.
 *
 * Addresses and values are the language's 64-bit `bigint`s. Run-time errors throw
 * `GuestRuntimeError`; side-effect-free reads for the debugger throw `EvaluationError`.
 */
import type {
  AccessSize,
  ControlRegister,
  MmuextOp,
  MmuUpdateRequest,
  PrivilegeMode,
} from '../language/host';
import type { Domain } from './domain';
import type { Vcpu } from './vcpu';

export type DomainKind = 'pv' | 'hvm-shadow' | 'hvm-hap';

export interface DomainModel {
  readonly kind: DomainKind;

  read(v: Vcpu, size: AccessSize, va: bigint): bigint;
  write(v: Vcpu, size: AccessSize, va: bigint, value: bigint): void;
  fetch(v: Vcpu, va: bigint): void;
  movCr(v: Vcpu, reg: ControlRegister, value: bigint): void;
  invlpg(v: Vcpu, va: bigint): void;
  /** `mode kernel|user` (the statement; the model decides what a change flushes). */
  setMode(v: Vcpu, mode: PrivilegeMode): void;
  /** What `cr0`/`cr3`/`cr4` read as in an expression. */
  readCr(v: Vcpu, reg: ControlRegister): bigint;

  mmuUpdate(v: Vcpu, requests: readonly MmuUpdateRequest[], foreign: Domain | null): void;
  mmuext(v: Vcpu, op: MmuextOp, arg: bigint): void;
  updateVaMapping(v: Vcpu, va: bigint, val: bigint, flags: bigint): void;

  /** Introspection, no side effects (guest-language.md § Built-ins). −1n when it would fault. */
  translate(v: Vcpu, va: bigint): bigint;
  guestTranslate(v: Vcpu, va: bigint): bigint;
  /** The debugger's read along `translate` (events.md §6.3); throws EvaluationError on a fault. */
  peek(v: Vcpu, size: AccessSize, va: bigint): bigint;
  shadowed(pfn: bigint): boolean;
  shadowCount(): number;
  writeProtected(pfn: bigint): boolean;
  outOfSync(pfn: bigint): boolean;

  snapshot(): unknown;
  restore(snapshot: unknown): void;
}
