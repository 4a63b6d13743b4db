/**
 * The machine: machine memory, the frame table, the event log, the domains with their vCPUs, and
 * the pool of free frames the hypervisor takes its own pages from (shadow pages). It is the
 * interpreter's `MachineHost`: each vCPU block talks to a `VcpuPort`, which routes statements to the
 * domain's model.
 *
 * Everything here is deterministic: the same declarations give the same frames, the same free-frame
 * order and so the same run.
 */
import type { MachineHost, StepContext, VcpuHost } from '../language/host';
import { EventLog } from '../events/eventLog';
import { MachineMemory } from '../memory/machineMemory';
import type { MemorySnapshot } from '../memory/machineMemory';
import { Domain } from './domain';
import type { DomainConfig } from './domain';
import type { DomainKind, DomainModel } from './domainModel';
import { FrameTable } from './frameTable';
import type { FrameTableSnapshot } from './frameTable';
import { MachineLayout } from './machineLayout';
import { Vcpu } from './vcpu';
import type { VcpuSnapshot } from './vcpu';
import { VcpuPort } from './vcpuPort';

/** Guest physical-address width (CPUID MAXPHYADDR) of every guest: entry bits 51..46 are reserved. */
export const MAX_PHYS_BITS = 46;

export type ModelFactory = (machine: Machine, domain: Domain) => DomainModel;

export interface MachineConfig {
  /** `machine memory=` in bytes, or null for the default pool. */
  readonly poolBytes: bigint | null;
  readonly domains: readonly DomainConfig[];
}

export interface MachineSnapshot {
  readonly memory: MemorySnapshot;
  readonly frames: FrameTableSnapshot;
  readonly vcpus: VcpuSnapshot[];
  readonly domains: { allocNext: number; crashed: string | null; model: unknown }[];
  readonly freeFrames: number[];
  readonly nextFree: number;
  readonly logLength: number;
}

export class Machine implements MachineHost {
  readonly layout: MachineLayout;
  readonly memory = new MachineMemory();
  readonly frameTable: FrameTable;
  readonly log = new EventLog();
  readonly domains: Domain[] = [];
  private readonly ports = new Map<string, VcpuPort>();
  /** Free frames given back (shadow pages destroyed), reused last-in first-out. */
  private freeFrames: number[] = [];
  /** Next never-used free frame, counting down from just below the lowest domain. */
  private nextFree: number;

  constructor(config: MachineConfig, factories: Record<DomainKind, ModelFactory>) {
    const pool = config.poolBytes ?? MachineLayout.defaultPoolBytes(config.domains.map((d) => d.memory));
    this.layout = new MachineLayout(
      pool,
      config.domains.map((d) => ({ id: d.id, frames: Number(d.memory / 4096n) })),
    );
    this.frameTable = new FrameTable(this.layout.frameCount, this.layout.m2pEntries, this.layout);
    for (const [mfn, index, value] of this.layout.hypervisorTableEntries()) {
      this.memory.writeEntryBig(mfn, index, value);
    }
    this.nextFree = Math.min(this.layout.poolFrames, ...this.layout.ranges.map((r) => r.start)) - 1;
    for (const dc of config.domains) {
      const domain = new Domain(dc, this.layout, this.layout.range(dc.id));
      this.domains.push(domain);
    }
    for (const domain of this.domains) {
      domain.model = factories[domain.kind](this, domain);
      for (let i = 0; i < domain.config.vcpus; i++) {
        const vcpu = domain.vcpus[i];
        this.ports.set(`${domain.name}.${i}`, new VcpuPort(this, domain, vcpu));
      }
    }
  }

  domain(name: string): Domain | undefined {
    return this.domains.find((d) => d.name === name);
  }

  domainById(id: number): Domain | undefined {
    return this.domains.find((d) => d.id === id);
  }

  /** Adds a vCPU to a domain; models call it from their factory with the kind's initial registers. */
  addVcpu(domain: Domain, initial: ConstructorParameters<typeof Vcpu>[3]): Vcpu {
    const v = new Vcpu(domain.id, domain.name, domain.vcpus.length, initial);
    domain.vcpus.push(v);
    return v;
  }

  // ---- MachineHost ----

  vcpu(domainName: string, index: number): VcpuHost {
    const port = this.ports.get(`${domainName}.${index}`);
    if (port === undefined) throw new Error(`no vCPU ${domainName}.${index}`);
    return port;
  }

  beginStep(vcpu: VcpuHost, ctx: StepContext): void {
    this.log.setContext({ step: ctx.step, domain: vcpu.domainName, vcpu: vcpu.index, line: ctx.line });
  }

  logExpectFailed(
    text: string,
    message: string | null,
    values: readonly { name: string; value: bigint | string }[],
  ): void {
    this.log.append({ class: 'expect_failed', text, message, values: [...values] });
  }

  // ---- free frames (the hypervisor's own pages) ----

  /** Takes a frame no domain owns (a shadow page), or −1 when none is left. */
  takeFreeFrame(): number {
    const reused = this.freeFrames.pop();
    if (reused !== undefined) {
      this.memory.fillZero(reused);
      return reused;
    }
    if (this.nextFree < 0) return -1;
    return this.nextFree--;
  }

  /** Gives a frame taken by `takeFreeFrame` back. */
  giveBackFrame(mfn: number): void {
    this.freeFrames.push(mfn);
  }

  // ---- checkpoints ----

  snapshot(): MachineSnapshot {
    return {
      memory: this.memory.checkpoint(),
      frames: this.frameTable.snapshot(),
      vcpus: this.allVcpus().map((v) => v.snapshot()),
      domains: this.domains.map((d) => ({
        allocNext: d.allocNext,
        crashed: d.crashed,
        model: d.model.snapshot(),
      })),
      freeFrames: [...this.freeFrames],
      nextFree: this.nextFree,
      logLength: this.log.length,
    };
  }

  restore(s: MachineSnapshot): void {
    this.memory.restore(s.memory);
    this.frameTable.restore(s.frames);
    this.allVcpus().forEach((v, i) => v.restore(s.vcpus[i]));
    this.domains.forEach((d, i) => {
      d.allocNext = s.domains[i].allocNext;
      d.crashed = s.domains[i].crashed;
      d.model.restore(s.domains[i].model);
    });
    this.freeFrames = [...s.freeFrames];
    this.nextFree = s.nextFree;
    this.log.truncate(s.logLength);
  }

  allVcpus(): Vcpu[] {
    return this.domains.flatMap((d) => d.vcpus);
  }
}
