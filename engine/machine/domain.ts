/**
 * A domain: its declaration, the machine frames backing its pfns (the p2m, arithmetic over the
 * layout, never stored), its vCPUs, the `alloc()` cursor, and the model that applies its kind's
 * hypervisor rules.
 */
import type { DomainKind, DomainModel } from './domainModel';
import type { DomainRange, MachineLayout } from './machineLayout';
import type { Vcpu } from './vcpu';

export interface DomainConfig {
  readonly name: string;
  readonly id: number;
  readonly kind: 'pv' | 'hvm';
  /** Bytes. */
  readonly memory: bigint;
  readonly vcpus: number;
  readonly privileged: boolean;
  readonly paging: 'shadow' | 'hap' | null;
}

export function domainKind(config: DomainConfig): DomainKind {
  if (config.kind === 'pv') return 'pv';
  return config.paging === 'hap' ? 'hvm-hap' : 'hvm-shadow';
}

export class Domain {
  readonly kind: DomainKind;
  readonly vcpus: Vcpu[] = [];
  /** Next pfn `alloc()` hands out. */
  allocNext = 0;
  /** Set when the domain crashed (every vCPU stops). */
  crashed: string | null = null;
  model!: DomainModel;

  constructor(
    readonly config: DomainConfig,
    private readonly layout: MachineLayout,
    readonly range: DomainRange,
  ) {
    this.kind = domainKind(config);
  }

  get name(): string {
    return this.config.name;
  }

  get id(): number {
    return this.config.id;
  }

  get isHvm(): boolean {
    return this.config.kind === 'hvm';
  }

  /** Number of pfns (gfns): memory / 4K. */
  get frames(): number {
    return this.range.frames;
  }

  /** The mfn behind a pfn/gfn, or −1 when the domain has no such frame (unbacked). */
  pfnToMfn(pfn: number): number {
    if (!Number.isInteger(pfn) || pfn < 0 || pfn >= this.range.frames) return -1;
    return this.layout.pfnToMfn(this.range, pfn);
  }

  /** The same for a bigint frame number (any 64-bit value). */
  pfnToMfnBig(pfn: bigint): number {
    return pfn < 0n || pfn >= BigInt(this.range.frames) ? -1 : this.layout.pfnToMfn(this.range, Number(pfn));
  }

  /** The pfn/gfn a machine frame backs in this domain, or −1. */
  mfnToPfn(mfn: number): number {
    return this.layout.mfnToPfn(this.range, mfn);
  }

  ownsMfn(mfn: number): boolean {
    return mfn >= this.range.start && mfn < this.range.start + this.range.frames;
  }
}
