/**
 * `pagewalk/pageTable`, `pagewalk/shadowPair` and `pagewalk/diff`: the table and history views.
 * They read the machine without changing it; `diff` travels to the two positions (checkpoint +
 * replay) and comes back to where the user stopped.
 */
import { formatValue } from '../engine/language';
import type { Domain } from '../engine/machine/domain';
import { describeFlags } from '../engine/paging/pte';
import { ShadowModel } from '../engine/shadow/shadowModel';
import { AdapterError, optionalInt, parseBig, requireInt } from './adapterError';
import type { Debuggee } from './debuggee';
import type { DiffResult, PageTableEntryRow, PageTableResult, ShadowPairResult } from './protocol';
import { canonical } from './variables';

const DIFF_LIMIT = 2000;

export function pageTable(d: Debuggee, a: Record<string, unknown>, thread: number): PageTableResult {
  const command = 'pagewalk/pageTable';
  const { vcpu, domain } = d.variables.vcpuOf(thread);
  const shadow = a.which === 'shadow';
  if (shadow && !(domain.model instanceof ShadowModel))
    throw new AdapterError('unsupported', `${command}: a ${domain.kind} domain has no shadow page tables`);
  const level = optionalInt(a, 'level', command, 4, 1);
  if (level > 4) throw new AdapterError('badArguments', `${command}: 'level' must be 1…4`);
  // Shadow tables are machine frames; the default root is the vCPU's top-level shadow.
  const root = shadow
    ? ((domain.model as ShadowModel).ctx.vcpus[vcpu.index]?.top ?? -1)
    : Number(domain.model.readCr(vcpu, 3) >> 12n);
  const frame = optionalInt(a, 'frame', command, root);
  if (frame < 0) throw new AdapterError('badArguments', `${command}: the vCPU has no top-level shadow`);
  const start = optionalInt(a, 'start', command, 0);
  const count = Math.min(optionalInt(a, 'count', command, 512), 512 - Math.min(start, 512));
  const vaBase = a.vaBase === undefined ? 0n : parseBig(a.vaBase);
  if (vaBase === null) throw new AdapterError('badArguments', `${command}: 'vaBase' must be "0x…"`);
  const mfn = shadow ? frame : tableMfn(domain, frame);
  if (mfn < 0 || !d.engine.machine.frameTable.isValid(mfn))
    throw new AdapterError('badArguments', `${command}: frame ${frame} is not backed`);
  const span = 1n << BigInt(12 + 9 * (level - 1));
  const entries: PageTableEntryRow[] = [];
  const mem = d.engine.machine.memory;
  for (let i = start; i < start + count; i++) {
    const value = mem.readEntry(mfn, i);
    const present = (value & 1n) === 1n;
    const last = entries[entries.length - 1];
    if (
      !present &&
      value === 0n &&
      last &&
      !last.present &&
      last.value === '0x0' &&
      last.index + last.runLength === i
    ) {
      last.runLength++;
      continue;
    }
    const leaf = level === 1 || (level < 4 && (value & 0x80n) !== 0n);
    entries.push({
      index: i,
      runLength: 1,
      value: formatValue(value),
      present,
      flags: flagList(value),
      target: present ? Number((value >> 12n) & 0xf_ffff_ffffn) : null,
      vaStart: formatValue(canonical(vaBase + BigInt(i) * span)),
      expandable: present && !leaf,
    });
  }
  return { frame, mfn, level, entries };
}

function tableMfn(domain: Domain, frame: number): number {
  return domain.isHvm ? domain.pfnToMfn(frame) : frame;
}

export function shadowPair(d: Debuggee, a: Record<string, unknown>, thread: number): ShadowPairResult {
  const gfn = requireInt(a, 'gfn', 'pagewalk/shadowPair');
  const { domain } = d.variables.vcpuOf(thread);
  const pfn = BigInt(gfn);
  const model = domain.model;
  const shadows =
    model instanceof ShadowModel
      ? [...model.ctx.hash.all()]
          .filter((sp) => sp.gfn === gfn)
          .map((sp) => ({ type: sp.type, mfn: sp.smfn }))
      : [];
  return {
    gfn,
    shadowed: model.shadowed(pfn),
    writeProtected: model.writeProtected(pfn),
    outOfSync: model.outOfSync(pfn),
    shadows,
    note:
      model instanceof ShadowModel
        ? null
        : domain.kind === 'hvm-hap'
          ? 'a HAP domain has no shadow page tables: the hardware walks the guest tables and the p2m'
          : 'a PV domain has no shadow page tables: the hardware walks the tables Xen validated',
  };
}

interface StateSample {
  memory: ReadonlyMap<number, { readonly words: Uint32Array }>;
  frames: Map<number, Record<string, string>>;
  registers: Map<string, bigint>;
}

function sample(d: Debuggee): StateSample {
  const m = d.engine.machine;
  const frames = new Map<number, Record<string, string>>();
  for (let mfn = 0; mfn < m.layout.frameCount; mfn++) {
    if (!m.frameTable.differsFromInitial(mfn)) continue;
    const ft = m.frameTable;
    frames.set(mfn, {
      owner: String(ft.owner(mfn)),
      type: ft.typeName(mfn),
      type_count: String(ft.typeCount(mfn)),
      ref_count: String(ft.refCount(mfn)),
      pinned: String(ft.pinned(mfn)),
      validated: String(ft.validated(mfn)),
    });
  }
  const registers = new Map<string, bigint>();
  for (const v of m.allVcpus()) {
    const dom = m.domain(v.domainName) as Domain;
    const s = v.state;
    const regs: [string, bigint][] = [['cr0', dom.model.readCr(v, 0)], ['cr3', dom.model.readCr(v, 3)], ['cr4', dom.model.readCr(v, 4)], ['rc', s.rc], ['done', s.done], ['fault', s.fault], ['fault_addr', s.faultAddr], ['fault_code', s.faultCode]]; // prettier-ignore
    for (const [name, value] of regs) registers.set(`${v.label}\u0000${name}`, value);
  }
  return { memory: m.memory.checkpoint().frames, frames, registers };
}

export function diff(d: Debuggee, a: Record<string, unknown>): DiffResult {
  const command = 'pagewalk/diff';
  const here = d.run.position;
  const from = requireInt(a, 'from', command);
  const to = optionalInt(a, 'to', command, here);
  if (from > here || to > here)
    throw new AdapterError('badArguments', `${command}: steps must be at most the current step ${here}`);
  d.run.goTo(from);
  const before = sample(d);
  d.run.goTo(to);
  const after = sample(d);
  d.run.goTo(here);
  const result: DiffResult = { from, to, memory: [], frames: [], registers: [], truncated: false };
  const zero = new Uint32Array(1024);
  for (const mfn of new Set([...before.memory.keys(), ...after.memory.keys()])) {
    const b = before.memory.get(mfn);
    const c = after.memory.get(mfn);
    if (b === c) continue;
    const bw = b?.words ?? zero;
    const cw = c?.words ?? zero;
    for (let i = 0; i < 512; i++) {
      if (bw[2 * i] === cw[2 * i] && bw[2 * i + 1] === cw[2 * i + 1]) continue;
      if (result.memory.length >= DIFF_LIMIT) {
        result.truncated = true;
        break;
      }
      const q = (w: Uint32Array) => formatValue((BigInt(w[2 * i + 1]) << 32n) | BigInt(w[2 * i]));
      result.memory.push({
        ma: formatValue((BigInt(mfn) << 12n) | BigInt(i * 8)),
        mfn,
        index: i,
        before: q(bw),
        after: q(cw),
      });
    }
  }
  result.memory.sort((x, y) => x.mfn - y.mfn || x.index - y.index);
  const blank: Record<string, string> = {};
  for (const mfn of new Set([...before.frames.keys(), ...after.frames.keys()])) {
    const b = before.frames.get(mfn) ?? blank;
    const c = after.frames.get(mfn) ?? blank;
    for (const field of Object.keys({ ...b, ...c }))
      if (b[field] !== c[field])
        result.frames.push({ mfn, field, before: b[field] ?? 'initial', after: c[field] ?? 'initial' });
  }
  for (const [key, value] of after.registers) {
    const old = before.registers.get(key) ?? 0n;
    if (old === value) continue;
    const [vcpu, register] = key.split('\u0000');
    result.registers.push({ vcpu, register, before: formatValue(old), after: formatValue(value) });
  }
  return result;
}

/** The entry's flag names as a list (`describeFlags` joins them with `|`, and says `0` for none). */
export function flagList(value: bigint): string[] {
  const text = describeFlags(value);
  return text === '0' ? [] : text.split('|');
}
