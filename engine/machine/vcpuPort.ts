/**
 * One vCPU as the interpreter sees it (`VcpuHost`): statements go to the domain's model, registers
 * are read from the vCPU (control registers as the model says they read), and the built-ins the
 * machine answers are computed here from the frame table, the p2m and the model.
 */
import type {
  AccessSize,
  ControlRegister,
  HostBuiltin,
  MmuextOp,
  MmuUpdateRequest,
  PrivilegeMode,
  RegisterName,
  VcpuHost,
} from '../language/host';
import { EvaluationError, GuestRuntimeError } from '../language/host';
import { isCanonical, pageNumber, toVa48 } from '../paging/virtualAddress';
import type { Domain } from './domain';
import type { Machine } from './machine';
import type { Vcpu } from './vcpu';

const MINUS_ONE = 0xffff_ffff_ffff_ffffn;
const SIZES: Record<string, AccessSize> = { read8: 1, read16: 2, read32: 4, read64: 8, read: 8 };

export class VcpuPort implements VcpuHost {
  constructor(
    private readonly machine: Machine,
    readonly domain: Domain,
    readonly vcpu: Vcpu,
  ) {}

  get domainName(): string {
    return this.domain.name;
  }

  get domainId(): number {
    return this.domain.id;
  }

  get index(): number {
    return this.vcpu.index;
  }

  get mode(): PrivilegeMode {
    return this.vcpu.state.mode;
  }

  read(size: AccessSize, addr: bigint): bigint {
    return this.domain.model.read(this.vcpu, size, addr);
  }

  write(size: AccessSize, addr: bigint, value: bigint): void {
    this.domain.model.write(this.vcpu, size, addr, value);
  }

  fetch(addr: bigint): void {
    this.domain.model.fetch(this.vcpu, addr);
  }

  movCr(reg: ControlRegister, value: bigint): void {
    this.domain.model.movCr(this.vcpu, reg, value);
  }

  invlpg(addr: bigint): void {
    this.domain.model.invlpg(this.vcpu, addr);
  }

  setMode(mode: PrivilegeMode): void {
    this.domain.model.setMode(this.vcpu, mode);
  }

  halt(): void {
    this.vcpu.state.halted = true;
  }

  mmuUpdate(requests: readonly MmuUpdateRequest[], foreign: string | null): void {
    const f = foreign === null ? null : (this.machine.domain(foreign) ?? null);
    this.domain.model.mmuUpdate(this.vcpu, requests, f);
  }

  mmuext(op: MmuextOp, arg: bigint): void {
    this.domain.model.mmuext(this.vcpu, op, arg);
  }

  updateVaMapping(va: bigint, val: bigint, flags: bigint): void {
    this.domain.model.updateVaMapping(this.vcpu, va, val, flags);
  }

  register(name: RegisterName): bigint {
    const s = this.vcpu.state;
    switch (name) {
      case 'cr0':
        return this.domain.model.readCr(this.vcpu, 0);
      case 'cr3':
        return this.domain.model.readCr(this.vcpu, 3);
      case 'cr4':
        return this.domain.model.readCr(this.vcpu, 4);
      case 'rc':
        return s.rc;
      case 'done':
        return s.done;
      case 'fault':
        return s.fault;
      case 'fault_addr':
        return s.faultAddr;
      case 'fault_code':
        return s.faultCode;
    }
  }

  callBuiltin(name: HostBuiltin, args: readonly bigint[], effects: boolean): bigint {
    const ft = this.machine.frameTable;
    const model = this.domain.model;
    const a0 = args[0] ?? 0n;
    const mfn = a0 < BigInt(ft.frameCount) ? Number(a0) : -1;
    switch (name) {
      case 'alloc': {
        if (!effects) throw new EvaluationError('alloc() changes the domain and cannot be evaluated here');
        if (this.domain.allocNext >= this.domain.frames) {
          throw new GuestRuntimeError(`alloc(): domain ${this.domain.name} has no frame left`);
        }
        return BigInt(this.domain.allocNext++);
      }
      case 'mfn': {
        if (this.domain.isHvm)
          throw new GuestRuntimeError(`mfn() is not available in HVM domain ${this.domain.name}`);
        const m = this.domain.pfnToMfnBig(a0);
        if (m < 0) {
          throw new GuestRuntimeError(
            `mfn(0x${a0.toString(16)}): pfn is not below the domain's ${this.domain.frames} frames`,
          );
        }
        return BigInt(m);
      }
      case 'pfn':
        return ft.m2p(a0 < BigInt(ft.m2pEntries) ? Number(a0) : -1);
      case 'read8':
      case 'read16':
      case 'read32':
      case 'read64':
      case 'read':
        return effects ? model.read(this.vcpu, SIZES[name], a0) : model.peek(this.vcpu, SIZES[name], a0);
      case 'type_of':
        return mfn < 0 ? 0n : BigInt(ft.type(mfn));
      case 'type_count':
        return mfn < 0 ? 0n : BigInt(ft.typeCount(mfn));
      case 'ref_count':
        return mfn < 0 ? 0n : BigInt(ft.refCount(mfn));
      case 'pinned':
        return mfn >= 0 && ft.pinned(mfn) ? 1n : 0n;
      case 'validated':
        return mfn >= 0 && ft.validated(mfn) ? 1n : 0n;
      case 'owner':
        return mfn < 0 ? 0n : BigInt(ft.owner(mfn));
      case 'translate':
        return model.translate(this.vcpu, a0);
      case 'guest_translate':
        return model.guestTranslate(this.vcpu, a0);
      case 'tlb_lookup': {
        if (!isCanonical(a0)) return MINUS_ONE;
        const va48 = toVa48(a0);
        const e = this.vcpu.tlb.lookup(pageNumber(va48));
        return e === undefined ? MINUS_ONE : BigInt(e.mfn) * 4096n + BigInt(va48 % 4096);
      }
      case 'shadowed':
        return model.shadowed(a0) ? 1n : 0n;
      case 'shadow_count':
        return BigInt(model.shadowCount());
      case 'write_protected':
        return model.writeProtected(a0) ? 1n : 0n;
      case 'out_of_sync':
        return model.outOfSync(a0) ? 1n : 0n;
    }
  }
}
