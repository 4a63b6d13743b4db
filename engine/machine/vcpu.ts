/**
 * A virtual CPU's architectural state common to every domain kind: privilege mode, control
 * registers as the hardware holds them, the language's result registers (`rc`, `done`, `fault`,
 * `fault_addr`, `fault_code`) and its TLB. What a control register *reads* as is the domain model's
 * business (a PV vCPU reads the values Xen emulates), so models keep their own per-vCPU state too.
 */
import { Tlb } from '../paging/tlb';
import type { TlbSnapshot } from '../paging/tlb';
import type { PrivilegeMode } from '../language/host';

export const FAULT_NONE = 0n;
export const FAULT_GP = 13n;
export const FAULT_PF = 14n;

export interface VcpuState {
  mode: PrivilegeMode;
  cr0: bigint;
  cr3: bigint;
  cr4: bigint;
  rc: bigint;
  done: bigint;
  fault: bigint;
  faultAddr: bigint;
  faultCode: bigint;
  halted: boolean;
}

export interface VcpuSnapshot {
  readonly state: VcpuState;
  readonly tlb: TlbSnapshot;
}

export class Vcpu {
  readonly tlb = new Tlb();
  state: VcpuState;

  constructor(
    readonly domainId: number,
    readonly domainName: string,
    readonly index: number,
    initial: Omit<VcpuState, 'mode' | 'rc' | 'done' | 'fault' | 'faultAddr' | 'faultCode' | 'halted'>,
  ) {
    this.state = {
      mode: 'kernel',
      rc: 0n,
      done: 0n,
      fault: FAULT_NONE,
      faultAddr: 0n,
      faultCode: 0n,
      halted: false,
      ...initial,
    };
  }

  get user(): boolean {
    return this.state.mode === 'user';
  }

  /** `web.vcpu0` */
  get label(): string {
    return `${this.domainName}.vcpu${this.index}`;
  }

  snapshot(): VcpuSnapshot {
    return { state: { ...this.state }, tlb: this.tlb.snapshot() };
  }

  restore(s: VcpuSnapshot): void {
    this.state = { ...s.state };
    this.tlb.restore(s.tlb);
  }
}
