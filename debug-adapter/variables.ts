/**
 * Scopes and variables of a stopped vCPU: Locals (the frame's variables), Registers (CR0/CR3/CR4
 * with their decoded bits as children, mode, rc, done, fault*), Domain, Page tables (lazily from
 * CR3, runs of not-present entries merged), Shadows (an HVM shadow domain's shadow pages), Frames
 * (the domain's frames, paged with `indexedVariables`) and TLB (stale entries marked). Each
 * expandable value registers a thunk, so nothing is computed until the client expands it; thunks
 * last until the next resume (`reset`), as DAP allows, but the *number* of a handle is kept per
 * thing shown (a frame's scope, a table), so subtrees keep their references across stops.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Engine } from '../engine/engine';
import { eventFields } from '../engine/events/eventJson';
import type { EngineEvent } from '../engine/events/eventTypes';
import { formatValue } from '../engine/language';
import type { Domain } from '../engine/machine/domain';
import type { Vcpu } from '../engine/machine/vcpu';
import { describeFlags } from '../engine/paging/pte';
import { ShadowModel } from '../engine/shadow/shadowModel';
import { SHADOW_LEVEL } from '../engine/shadow/shadowTypes';
import { AdapterError } from './adapterError';
import { tlbEntryVa, tlbStaleness } from './tlbStaleness';
import { virtualReference } from './memory';

/** Children of a handle; `start`/`count` page an indexed one (`indexedVariables`). */
type Thunk = (start?: number, count?: number) => DebugProtocol.Variable[];

/** What a handle's children are, for `dataBreakpointInfo`. */
export type HandleContext =
  | { kind: 'locals'; thread: number; frameIndex: number }
  | { kind: 'table'; mfn: number }
  | { kind: 'frames'; domain: Domain };

const CR0_BITS: [string, number][] = [['PE', 0], ['MP', 1], ['EM', 2], ['TS', 3], ['ET', 4], ['NE', 5], ['WP', 16], ['AM', 18], ['NW', 29], ['CD', 30], ['PG', 31]]; // prettier-ignore
const CR4_BITS: [string, number][] = [['VME', 0], ['PVI', 1], ['TSD', 2], ['DE', 3], ['PSE', 4], ['PAE', 5], ['MCE', 6], ['PGE', 7], ['PCE', 8], ['OSFXSR', 9], ['OSXMMEXCPT', 10], ['LA57', 12], ['SMEP', 20], ['SMAP', 21]]; // prettier-ignore
const LEVEL_NAMES = ['', 'PT', 'PD', 'PDPT', 'PML4'];
const FAULT_NAMES: Record<string, string> = { '0': 'NOFAULT', '13': 'GP', '14': 'PF' };

export class Variables {
  private thunks = new Map<number, Thunk>();
  private contexts = new Map<number, HandleContext>();
  /**
   * A handle per *what it shows* (a scope of a frame, a table of a domain, …), kept across stops, so
   * a client sees the same reference for the same subtree after every stop and keeps it expanded.
   */
  private readonly refs = new Map<string, number>();
  private next = 1;

  constructor(private readonly engine: Engine) {}

  /** At a stop or resume: the children are computed again when next asked (numbers stay). */
  reset(): void {
    this.thunks.clear();
    this.contexts.clear();
  }

  scopes(thread: number, frameIndex: number): DebugProtocol.Scope[] {
    const { vcpu, domain } = this.vcpuOf(thread);
    const scope = (name: string, thunk: Thunk, expensive = false, hint?: 'locals' | 'registers') => ({
      name,
      variablesReference: this.handle(`scope:${thread}:${frameIndex}:${name}`, thunk),
      expensive,
      presentationHint: hint,
    });
    return [
      {
        name: 'Locals',
        variablesReference: this.handle(
          `scope:${thread}:${frameIndex}:Locals`,
          () => this.locals(thread, frameIndex),
          {
            kind: 'locals',
            thread,
            frameIndex,
          },
        ),
        expensive: false,
        presentationHint: 'locals',
      },
      scope('Registers', () => this.registers(vcpu, domain, thread), false, 'registers'),
      scope('Domain', () => this.domainVars(domain)),
      scope('Page tables', () => this.pageTableRoot(vcpu, domain), true),
      ...(domain.model instanceof ShadowModel ? [scope('Shadows', () => this.shadows(domain), true)] : []),
      {
        name: 'Frames',
        variablesReference: this.handle(
          `frames:${domain.name}`,
          (start, count) => this.frames(domain, start, count),
          {
            kind: 'frames',
            domain,
          },
        ),
        expensive: true,
        indexedVariables: domain.frames,
      },
      scope('TLB', () => this.tlb(vcpu, domain), true),
    ];
  }

  /** The scope of the synthetic hypervisor frame: the stop's event, fields in schema order. */
  eventScope(event: EngineEvent): DebugProtocol.Scope {
    const fields = { class: event.class, ...eventFields(event), explanation: event.explanation ?? null };
    const show = (value: unknown): DebugProtocol.Variable['value'] =>
      typeof value === 'string' ? value : JSON.stringify(value);
    return {
      name: `Event (${event.class})`,
      expensive: false,
      variablesReference: this.handle(`event:${event.domain}.${event.vcpu}`, () =>
        Object.entries(fields).map(([name, value]) => ({ name, value: show(value), variablesReference: 0 })),
      ),
    };
  }

  variables(ref: number, start?: number, count?: number): DebugProtocol.Variable[] {
    const thunk = this.thunks.get(ref);
    if (thunk === undefined) throw new AdapterError('unknownReference', `no variables reference ${ref}`);
    return thunk(start, count);
  }

  vcpuOf(thread: number): { vcpu: Vcpu; domain: Domain } {
    const info = this.engine.interpreter.threads()[thread];
    if (info === undefined) throw new AdapterError('unknownThread', `no thread ${thread + 1}`);
    const domain = this.engine.machine.domain(info.domain) as Domain;
    return { vcpu: domain.vcpus[info.index], domain };
  }

  contextOf(ref: number): HandleContext | undefined {
    return this.contexts.get(ref);
  }

  private handle(key: string, thunk: Thunk, context?: HandleContext): number {
    let ref = this.refs.get(key);
    if (ref === undefined) {
      ref = this.next++;
      this.refs.set(key, ref);
    }
    this.thunks.set(ref, thunk);
    if (context) this.contexts.set(ref, context);
    return ref;
  }

  private locals(thread: number, frameIndex: number): DebugProtocol.Variable[] {
    const frame = this.engine.interpreter.frames(thread)[frameIndex];
    if (frame === undefined) return []; // a finished vCPU's synthetic frame
    return frame.variables.map(({ name, value }) => ({
      name,
      value: value === undefined ? '<not yet set>' : formatValue(value),
      evaluateName: name,
      variablesReference: 0,
      memoryReference: value === undefined ? undefined : virtualReference(thread, value),
    }));
  }

  private registers(vcpu: Vcpu, domain: Domain, thread: number): DebugProtocol.Variable[] {
    const s = vcpu.state;
    const cr = (name: string, reg: 0 | 3 | 4, bits: [string, number][] | null): DebugProtocol.Variable => {
      const value = domain.model.readCr(vcpu, reg);
      const set = bits?.filter(([, b]) => (value >> BigInt(b)) & 1n).map(([n]) => n) ?? [];
      const children: Thunk = () =>
        (bits ?? []).map(([n, b]) => ({
          name: n,
          value: (value >> BigInt(b)) & 1n ? '1' : '0',
          variablesReference: 0,
        }));
      return {
        name,
        value: bits ? `${formatValue(value)} [${set.join(' ')}]` : formatValue(value),
        evaluateName: name,
        variablesReference: bits ? this.handle(`cr:${thread}:${name}`, children) : 0,
        memoryReference: reg === 3 ? `gpa:${domain.name}:${formatValue(value & ~0xfffn)}` : undefined,
      };
    };
    const plain = (name: string, value: bigint, shown = formatValue(value)): DebugProtocol.Variable => ({
      name,
      value: shown,
      evaluateName: name,
      variablesReference: 0,
    });
    return [
      cr('cr0', 0, CR0_BITS),
      cr('cr3', 3, null),
      cr('cr4', 4, CR4_BITS),
      { name: 'mode', value: s.mode, variablesReference: 0 },
      plain('rc', s.rc),
      plain('done', s.done),
      plain('fault', s.fault, FAULT_NAMES[s.fault.toString()] ?? formatValue(s.fault)),
      { ...plain('fault_addr', s.faultAddr), memoryReference: virtualReference(thread, s.faultAddr) },
      plain('fault_code', s.faultCode),
    ];
  }

  private domainVars(domain: Domain): DebugProtocol.Variable[] {
    const v = (name: string, value: string) => ({ name, value, variablesReference: 0 });
    return [
      v('name', domain.name),
      v('id', String(domain.id)),
      v('kind', domain.kind),
      v('memory', formatValue(domain.config.memory)),
      v('frames', String(domain.frames)),
      v('first mfn', formatValue(BigInt(domain.range.start))),
      v('crashed', domain.crashed ?? 'no'),
      v('shadow pages', String(domain.model.shadowCount())),
      v('vcpus', String(domain.vcpus.length)),
    ];
  }

  /** A PV entry's target frame's type and counts (an HVM guest frame is untyped: nothing). */
  private frameState(domain: Domain, frame: number): string {
    const ft = this.engine.machine.frameTable;
    if (domain.isHvm || !ft.isValid(frame)) return '';
    return ` [${ft.typeName(frame)} type_count ${ft.typeCount(frame)} ref_count ${ft.refCount(frame)}${ft.pinned(frame) ? ' pinned' : ''}]`;
  }

  /** Table space: guest frames for HVM (through the p2m), machine frames for PV. */
  private tableMfn(domain: Domain, frame: number): number {
    return domain.isHvm ? domain.pfnToMfn(frame) : frame;
  }

  private pageTableRoot(vcpu: Vcpu, domain: Domain): DebugProtocol.Variable[] {
    const cr3 = domain.model.readCr(vcpu, 3);
    const pagingOn = domain.isHvm ? (domain.model.readCr(vcpu, 0) >> 31n) & 1n : 1n;
    if (!pagingOn) return [{ name: 'paging', value: 'off (CR0.PG = 0)', variablesReference: 0 }];
    if (cr3 === 0n && !domain.isHvm)
      return [{ name: 'cr3', value: 'no base pointer', variablesReference: 0 }];
    const root = Number(cr3 >> 12n);
    return [this.tableVariable(domain, 'PML4', root, 4, 0n)];
  }

  private tableVariable(domain: Domain, name: string, frame: number, level: number, vaBase: bigint) {
    const mfn = this.tableMfn(domain, frame);
    return {
      name,
      value: `frame ${formatValue(BigInt(frame))}${domain.isHvm ? ` (mfn ${formatValue(BigInt(mfn))})` : ''}`,
      variablesReference:
        mfn < 0
          ? 0
          : this.handle(
              `table:${mfn}:${level}:${vaBase}`,
              () => this.tableEntries(domain, mfn, level, vaBase),
              {
                kind: 'table',
                mfn,
              },
            ),
      memoryReference: mfn < 0 ? undefined : `ma:${formatValue(BigInt(mfn) << 12n)}`,
    };
  }

  private tableEntries(domain: Domain, mfn: number, level: number, vaBase: bigint): DebugProtocol.Variable[] {
    const out: DebugProtocol.Variable[] = [];
    const span = 1n << BigInt(12 + 9 * (level - 1));
    const mem = this.engine.machine.memory;
    for (let i = 0; i < 512;) {
      const value = mem.readEntry(mfn, i);
      if ((value & 1n) === 0n) {
        let j = i + 1;
        while (j < 512 && (mem.readEntry(mfn, j) & 1n) === 0n) j++;
        const nonzero = value !== 0n;
        if (j - i > 1 || !nonzero) {
          out.push({
            name: j - i > 1 ? `[${i}..${j - 1}]` : `[${i}]`,
            value: 'not present',
            variablesReference: 0,
          });
          i = j;
          continue;
        }
      }
      const va = canonical(vaBase + BigInt(i) * span);
      const leaf = level === 1 || (level < 4 && (value & 0x80n) !== 0n);
      const target = Number((value >> 12n) & 0xf_ffff_ffffn);
      const end = canonical(vaBase + BigInt(i) * span + span - 1n);
      const shown = `${formatValue(value)} ${describeFlags(value)} → ${formatValue(BigInt(target))}${this.frameState(domain, target)} (va ${formatValue(va)}..${formatValue(end)})`;
      if (leaf || (value & 1n) === 0n) out.push({ name: `[${i}]`, value: shown, variablesReference: 0 });
      else {
        const child = this.tableVariable(domain, `[${i}]`, target, level - 1, va);
        out.push({ ...child, value: `${shown} ${LEVEL_NAMES[level - 1]}` });
      }
      i++;
    }
    return out;
  }

  /**
   * The TLB's entries; one is STALE when the tables no longer give what it caches: `translate` (a
   * walk at the current mode, TLB not consulted) reaches another frame, or nothing.
   */
  private tlb(vcpu: Vcpu, domain: Domain): DebugProtocol.Variable[] {
    const entries = vcpu.tlb.all();
    if (entries.length === 0) return [{ name: 'entries', value: 'empty', variablesReference: 0 }];
    return entries.map((e) => {
      const r = e as unknown as Record<string, unknown>;
      const va = tlbEntryVa(e);
      const fields = Object.entries(r)
        .filter(([k]) => k !== 'vpn')
        .map(
          ([k, v]) =>
            `${k}=${typeof v === 'number' || typeof v === 'bigint' ? formatValue(BigInt(v)) : String(v)}`,
        );
      const stale = tlbStaleness(domain, vcpu, e);
      return {
        name: formatValue(va),
        value: `${fields.join(' ')}${stale !== null ? ` STALE (${stale})` : ''}`,
        variablesReference: 0,
        memoryReference: `ma:${formatValue(BigInt(e.mfn) << 12n)}`,
      };
    });
  }

  /** The domain's frames by pfn, `count` from `start` (the client pages them). */
  private frames(domain: Domain, start = 0, count = 100): DebugProtocol.Variable[] {
    const ft = this.engine.machine.frameTable;
    const out: DebugProtocol.Variable[] = [];
    for (let pfn = start; pfn < Math.min(domain.frames, start + count); pfn++) {
      const mfn = domain.pfnToMfn(pfn);
      if (mfn < 0) continue;
      const state = `${ft.typeName(mfn)} type_count ${ft.typeCount(mfn)} ref_count ${ft.refCount(mfn)}${ft.pinned(mfn) ? ' pinned' : ''}${ft.validated(mfn) ? ' validated' : ''}`; // prettier-ignore
      out.push({
        name: `[${pfn}]`,
        value: `mfn ${formatValue(BigInt(mfn))} ${state}`,
        variablesReference: 0,
        memoryReference: `ma:${formatValue(BigInt(mfn) << 12n)}`,
      });
    }
    return out;
  }

  /** An HVM shadow domain's shadow pages, each with its present shadow entries as children. */
  private shadows(domain: Domain): DebugProtocol.Variable[] {
    if (!(domain.model instanceof ShadowModel)) return [];
    const model = domain.model;
    const pages = [...model.ctx.hash.all()].sort(
      (a, b) => a.gfn - b.gfn || SHADOW_LEVEL[b.type] - SHADOW_LEVEL[a.type],
    );
    if (pages.length === 0) return [{ name: 'shadows', value: 'none', variablesReference: 0 }];
    return pages.map((sp) => ({
      name: `gfn ${formatValue(BigInt(sp.gfn))} ${sp.type}`,
      value: `smfn ${formatValue(BigInt(sp.smfn))} refs ${sp.refs}${sp.pinned ? ' pinned' : ''}${model.outOfSync(BigInt(sp.gfn)) ? ' out of sync' : ''}`,
      variablesReference: this.handle(`shadow:${sp.smfn}`, () => this.shadowEntries(sp.smfn)),
      memoryReference: `ma:${formatValue(BigInt(sp.smfn) << 12n)}`,
    })); // prettier-ignore
  }

  private shadowEntries(smfn: number): DebugProtocol.Variable[] {
    const mem = this.engine.machine.memory;
    const out: DebugProtocol.Variable[] = [];
    for (let i = 0; i < 512; i++) {
      const value = mem.readEntry(smfn, i);
      if ((value & 1n) === 0n) continue;
      const target = (value >> 12n) & 0xf_ffff_ffffn;
      out.push({ name: `[${i}]`, value: `${formatValue(value)} ${describeFlags(value)} → mfn ${formatValue(target)}`, variablesReference: 0 }); // prettier-ignore
    }
    return out.length > 0 ? out : [{ name: 'entries', value: 'none present', variablesReference: 0 }];
  }
}

/** Sign-extends bit 47, as a canonical virtual address. */
export function canonical(va: bigint): bigint {
  return va & (1n << 47n) ? va | 0xffff_0000_0000_0000n : va;
}
