/**
 * A small stand-in for the machine, for the language's tests: flat sparse memory (no translation),
 * registers in a map per vCPU, a call log, and a configurable set of faulting addresses.
 * A read or write that touches a faulting page sets `fault` = PF and `fault_addr`; any other
 * access sets `fault` = NOFAULT, as the language's fault rules say.
 */
import { EvaluationError, GuestRuntimeError } from '../../engine/language/host';
import type {
  AccessSize,
  ControlRegister,
  HostBuiltin,
  MachineHost,
  MmuUpdateRequest,
  MmuextOp,
  PrivilegeMode,
  RegisterName,
  StepContext,
  VcpuHost,
} from '../../engine/language/host';

export class FakeMemory {
  readonly bytes = new Map<bigint, number>();
  /** Pages (address >> 12) whose access faults. */
  readonly faultingPages = new Set<bigint>();

  read(size: number, address: bigint): bigint {
    let value = 0n;
    for (let i = size - 1; i >= 0; i--)
      value = (value << 8n) | BigInt(this.bytes.get(address + BigInt(i)) ?? 0);
    return value;
  }

  write(size: number, address: bigint, value: bigint): void {
    for (let i = 0; i < size; i++)
      this.bytes.set(address + BigInt(i), Number((value >> BigInt(8 * i)) & 0xffn));
  }

  faults(size: number, address: bigint): boolean {
    return (
      this.faultingPages.has(address >> 12n) || this.faultingPages.has((address + BigInt(size - 1)) >> 12n)
    );
  }
}

export class FakeVcpu implements VcpuHost {
  mode: PrivilegeMode = 'kernel';
  readonly registers = new Map<RegisterName, bigint>([
    ['cr0', 0x11n],
    ['cr3', 0n],
    ['cr4', 0x20n],
    ['rc', 0n],
    ['done', 0n],
    ['fault', 0n],
    ['fault_addr', 0n],
    ['fault_code', 0n],
  ]);
  halted = false;
  nextFrame = 0n;

  constructor(
    private readonly machine: FakeHost,
    readonly domainName: string,
    readonly domainId: number,
    readonly index: number,
  ) {}

  private log(entry: string): void {
    this.machine.calls.push(`${this.domainName}.${this.index} ${entry}`);
  }

  private access(size: AccessSize, address: bigint, write: boolean): boolean {
    if (this.machine.memory.faults(size, address)) {
      this.registers.set('fault', 14n);
      this.registers.set('fault_addr', address);
      this.registers.set('fault_code', write ? 2n : 0n);
      return false;
    }
    this.registers.set('fault', 0n);
    return true;
  }

  read(size: AccessSize, address: bigint): bigint {
    this.log(`read${size * 8} 0x${address.toString(16)}`);
    return this.access(size, address, false) ? this.machine.memory.read(size, address) : 0n;
  }

  write(size: AccessSize, address: bigint, value: bigint): void {
    this.log(`write${size * 8} 0x${address.toString(16)} 0x${value.toString(16)}`);
    if (this.access(size, address, true)) this.machine.memory.write(size, address, value);
  }

  fetch(address: bigint): void {
    this.log(`fetch 0x${address.toString(16)}`);
    this.access(1, address, false);
  }

  movCr(reg: ControlRegister, value: bigint): void {
    this.log(`mov cr${reg} 0x${value.toString(16)}`);
    this.registers.set(`cr${reg}` as RegisterName, value);
    this.registers.set('fault', 0n);
  }

  invlpg(address: bigint): void {
    this.log(`invlpg 0x${address.toString(16)}`);
    this.registers.set('fault', 0n);
  }

  setMode(mode: PrivilegeMode): void {
    this.log(`mode ${mode}`);
    this.mode = mode;
  }

  halt(): void {
    this.log('halt');
    this.halted = true;
  }

  mmuUpdate(requests: readonly MmuUpdateRequest[], foreign: string | null): void {
    const list = requests.map((r) => `0x${r.ptr.toString(16)}=0x${r.val.toString(16)}`).join(' ');
    this.log(`mmu_update ${list}${foreign ? ` foreign=${foreign}` : ''}`);
    this.registers.set('rc', 0n);
    this.registers.set('done', BigInt(requests.length));
  }

  mmuext(op: MmuextOp, arg: bigint): void {
    this.log(`mmuext ${op} 0x${arg.toString(16)}`);
    if (this.machine.crashOn === op)
      throw new GuestRuntimeError(`domain ${this.domainName} crashed: out of shadow memory`, 'domain');
    this.registers.set('rc', op === 'pin_l2_table' ? BigInt.asUintN(64, -16n) : 0n);
  }

  updateVaMapping(va: bigint, val: bigint, flags: bigint): void {
    this.log(`update_va_mapping 0x${va.toString(16)} 0x${val.toString(16)} 0x${flags.toString(16)}`);
    this.registers.set('rc', 0n);
  }

  register(name: RegisterName): bigint {
    return this.registers.get(name) ?? 0n;
  }

  callBuiltin(name: HostBuiltin, args: readonly bigint[], effects: boolean): bigint {
    if (!effects) this.machine.peeks.push(`${name}(${args.map((a) => `0x${a.toString(16)}`).join(',')})`);
    switch (name) {
      case 'alloc':
        if (this.nextFrame >= this.machine.framesPerDomain)
          throw new GuestRuntimeError('alloc(): no frame left');
        this.log('alloc');
        return this.nextFrame++;
      case 'mfn':
        return args[0] + 0x100n;
      case 'read8':
      case 'read16':
      case 'read32':
      case 'read64':
      case 'read': {
        const size = ({ read8: 1, read16: 2, read32: 4, read64: 8, read: 8 } as const)[name];
        if (effects) return this.read(size, args[0]);
        if (this.machine.memory.faults(size, args[0]))
          throw new EvaluationError(`read at 0x${args[0].toString(16)} would fault`);
        return this.machine.memory.read(size, args[0]);
      }
      default:
        return 0x42n;
    }
  }
}

export class FakeHost implements MachineHost {
  readonly memory = new FakeMemory();
  readonly calls: string[] = [];
  readonly peeks: string[] = [];
  readonly steps: { vcpu: string; step: number; line: number }[] = [];
  readonly expectFailures: {
    text: string;
    message: string | null;
    values: readonly { name: string; value: bigint | string }[];
  }[] = [];
  readonly vcpus = new Map<string, FakeVcpu>();
  framesPerDomain = 16n;
  /** An mmuext op that crashes the domain, to test domain-scope errors. */
  crashOn: MmuextOp | null = null;
  private readonly ids = new Map<string, number>();

  vcpu(domainName: string, index: number): FakeVcpu {
    const key = `${domainName}.${index}`;
    let vcpu = this.vcpus.get(key);
    if (!vcpu) {
      if (!this.ids.has(domainName)) this.ids.set(domainName, this.ids.size + 1);
      vcpu = new FakeVcpu(this, domainName, this.ids.get(domainName) ?? 0, index);
      this.vcpus.set(key, vcpu);
    }
    return vcpu;
  }

  /** A deep copy of the machine state, for snapshot tests. */
  snapshot(): () => void {
    const bytes = new Map(this.memory.bytes);
    const calls = this.calls.length;
    const steps = this.steps.length;
    const vcpus = [...this.vcpus.values()].map((v) => ({
      v,
      regs: new Map(v.registers),
      mode: v.mode,
      halted: v.halted,
      next: v.nextFrame,
    }));
    return () => {
      this.memory.bytes.clear();
      for (const [k, b] of bytes) this.memory.bytes.set(k, b);
      this.calls.length = calls;
      this.steps.length = steps;
      for (const { v, regs, mode, halted, next } of vcpus) {
        v.registers.clear();
        for (const [k, r] of regs) v.registers.set(k, r);
        [v.mode, v.halted, v.nextFrame] = [mode, halted, next];
      }
    };
  }

  beginStep(vcpu: VcpuHost, ctx: StepContext): void {
    this.steps.push({ vcpu: `${vcpu.domainName}.${vcpu.index}`, step: ctx.step, line: ctx.line });
  }

  logExpectFailed(
    text: string,
    message: string | null,
    values: readonly { name: string; value: bigint | string }[],
  ): void {
    this.expectFailures.push({ text, message, values });
  }
}
