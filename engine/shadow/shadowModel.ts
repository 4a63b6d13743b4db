/**
 * The `DomainModel` of an HVM domain under `paging=shadow`: statements go to the shadow paging code
 * of this folder (see `shadowTypes.ts` for the model's essay); hypercalls and the CR value checks
 * are shared with HAP (`engine/hvm`).
 */
import type {
  AccessSize,
  ControlRegister,
  MmuextOp,
  MmuUpdateRequest,
  PrivilegeMode,
} from '../language/host';
import { HVM_INITIAL } from '../hvm/hvmControlRegisters';
import { hvmMmuext, hvmMmuUpdate, hvmUpdateVaMapping } from '../hvm/hvmHypercalls';
import type { Domain } from '../machine/domain';
import type { DomainModel } from '../machine/domainModel';
import type { Machine, ModelFactory } from '../machine/machine';
import type { Vcpu } from '../machine/vcpu';
import { shadowAccess } from './shadowAccess';
import type { ShadowAudit } from './shadowAudit';
import { auditContext } from './shadowAudit';
import { ShadowContext, newVcpuState } from './shadowContext';
import type { ShadowContextSnapshot } from './shadowContext';
import { shadowMovCr } from './shadowCr3';
import { shadowInvlpg } from './shadowInvlpg';
import { shadowGuestTranslate, shadowPeek, shadowTranslate } from './shadowIntrospection';
import { isWriteProtected } from './writeAccess';

export const createShadowModel: ModelFactory = (machine: Machine, domain: Domain) => {
  for (let i = 0; i < domain.config.vcpus; i++) machine.addVcpu(domain, HVM_INITIAL);
  return new ShadowModel(machine, domain);
};

/** A gfn as a number, or −1 when it cannot be one of the domain's frames. */
function gfnOf(pfn: bigint): number {
  return pfn < 0n || pfn >= 1n << 40n ? -1 : Number(pfn);
}

export class ShadowModel implements DomainModel {
  readonly kind = 'hvm-shadow' as const;
  readonly ctx: ShadowContext;

  constructor(machine: Machine, domain: Domain) {
    this.ctx = new ShadowContext(machine, domain);
    this.ctx.vcpus = domain.vcpus.map(() => newVcpuState());
  }

  read(v: Vcpu, size: AccessSize, va: bigint): bigint {
    return shadowAccess(this.ctx, v, 'read', size, va, 0n);
  }

  write(v: Vcpu, size: AccessSize, va: bigint, value: bigint): void {
    shadowAccess(this.ctx, v, 'write', size, va, value);
  }

  fetch(v: Vcpu, va: bigint): void {
    shadowAccess(this.ctx, v, 'fetch', 1, va, 0n);
  }

  movCr(v: Vcpu, reg: ControlRegister, value: bigint): void {
    shadowMovCr(this.ctx, v, reg, value);
  }

  invlpg(v: Vcpu, va: bigint): void {
    shadowInvlpg(this.ctx, v, va);
  }

  setMode(v: Vcpu, mode: PrivilegeMode): void {
    v.state.mode = mode;
  }

  readCr(v: Vcpu, reg: ControlRegister): bigint {
    return reg === 0 ? v.state.cr0 : reg === 3 ? v.state.cr3 : v.state.cr4;
  }

  mmuUpdate(v: Vcpu, requests: readonly MmuUpdateRequest[], foreign: Domain | null): void {
    hvmMmuUpdate(this.ctx.machine.log, v, requests, foreign?.name ?? null);
  }

  mmuext(v: Vcpu, op: MmuextOp, arg: bigint): void {
    hvmMmuext(this.ctx.machine.log, v, op, arg);
  }

  updateVaMapping(v: Vcpu, va: bigint, val: bigint, flags: bigint): void {
    hvmUpdateVaMapping(this.ctx.machine.log, v, va, val, flags);
  }

  translate(v: Vcpu, va: bigint): bigint {
    return shadowTranslate(this.ctx, v, va);
  }

  guestTranslate(v: Vcpu, va: bigint): bigint {
    return shadowGuestTranslate(this.ctx, v, va);
  }

  peek(v: Vcpu, size: AccessSize, va: bigint): bigint {
    return shadowPeek(this.ctx, v, size, va);
  }

  shadowed(pfn: bigint): boolean {
    return this.ctx.hash.isShadowed(gfnOf(pfn));
  }

  shadowCount(): number {
    return this.ctx.hash.size;
  }

  writeProtected(pfn: bigint): boolean {
    const gfn = gfnOf(pfn);
    return gfn < 0 || isWriteProtected(this.ctx, gfn);
  }

  outOfSync(pfn: bigint): boolean {
    return this.ctx.isOutOfSync(gfnOf(pfn));
  }

  /** The shadow audit (`sh_audit_*`). */
  audit(): ShadowAudit {
    return auditContext(this.ctx);
  }

  snapshot(): ShadowContextSnapshot {
    return this.ctx.snapshot();
  }

  restore(snapshot: unknown): void {
    this.ctx.restore(snapshot as ShadowContextSnapshot);
  }
}
