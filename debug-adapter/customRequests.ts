/**
 * The `pagewalk/*` requests of `protocol.ts`: views of the machine for the extension's panels and
 * the reverse requests. Each handler validates its arguments and returns the typed result.
 */
import { eventToJson } from '../engine/events/eventJson';
import { formatValue } from '../engine/language';
import { AdapterError, optionalInt, requireBig, requireInt, requireObject } from './adapterError';
import { walkOf, walkText } from './evaluate';
import { hapWalkGrid } from './hapWalkGrid';
import type { DomainsResult, EventsResult, FrameTableResult, WalkResult } from './protocol';
import type { Debuggee } from './debuggee';
import { diff, flagList, pageTable, shadowPair } from './viewRequests';

const TRAP_CLASSES = new Set(['fault', 'npf', 'fixup', 'emulate', 'hypercall_result', 'ptwr', 'mmio']);

export function customRequest(d: Debuggee, command: string, args: unknown): unknown {
  const a = requireObject(args ?? {}, command);
  const thread = (key = 'threadId') => {
    const t = requireInt(a, key, command, 1) - 1;
    if (t >= d.engine.interpreter.threads().length)
      throw new AdapterError('unknownThread', `no thread ${t + 1}`);
    return t;
  };
  switch (command) {
    case 'pagewalk/domains':
      return domains(d);
    case 'pagewalk/frameTable':
      return frameTable(d, a, command);
    case 'pagewalk/walk':
      return walk(d, thread(), requireBig(a, 'va', command));
    case 'pagewalk/events':
      return events(d, a, command);
    case 'pagewalk/reverseStepIn': {
      const t = thread();
      return reverse(
        d,
        t,
        d.run.findBack((rec) => rec.thread === t),
      );
    }
    case 'pagewalk/reverseStepOut': {
      const t = thread();
      const depth = d.run.depth(t);
      return reverse(
        d,
        t,
        d.run.findBack((rec) => rec.thread === t && rec.depthBefore < depth),
      );
    }
    case 'pagewalk/reverseToTrap':
    case 'pagewalk/reverseToCr3Write': {
      const t = thread();
      const wanted = (cls: string, e: { class: string; reg?: number }) =>
        command === 'pagewalk/reverseToTrap' ? TRAP_CLASSES.has(cls) : e.class === 'cr_write' && e.reg === 3;
      // A stop "at" an event is the position after its step (events.md §6.1), so p+1.
      const p = d.run.findBack(
        (rec, pos) =>
          pos + 1 < d.run.position &&
          d.run.eventsOf(rec).some((e) => wanted(e.class, e as { class: string; reg?: number })),
      );
      const rec = d.run.history.get(p);
      const target = rec && d.run.eventsOf(rec).some((e) => wanted(e.class, e as { class: string; reg?: number })) ? p + 1 : 0; // prettier-ignore
      return reverse(d, t, target);
    }
    case 'pagewalk/reverseToStep': {
      const t = thread();
      const step = requireInt(a, 'step', command, 0);
      if (step > d.run.position)
        throw new AdapterError('badArguments', `step ${step} is ahead of the current step ${d.run.position}`);
      return reverse(d, t, step, 'goto');
    }
    case 'pagewalk/pageTable':
      return pageTable(d, a, thread());
    case 'pagewalk/shadowPair':
      return shadowPair(d, a, thread());
    case 'pagewalk/diff':
      return diff(d, a);
    default:
      throw new AdapterError('unsupported', `unknown request '${command}'`);
  }
}

function reverse(
  d: Debuggee,
  thread: number,
  target: number,
  reason: 'step' | 'goto' = 'step',
): Record<string, never> {
  setImmediate(() => d.run.backTo(target, reason, thread));
  return {};
}

function domains(d: Debuggee): DomainsResult {
  const threads = d.engine.interpreter.threads();
  return {
    step: d.engine.stepCount,
    domains: d.engine.machine.domains.map((dom) => ({
      name: dom.name,
      id: dom.id,
      kind: dom.kind,
      memory: formatValue(dom.config.memory),
      firstMfn: dom.range.start,
      frames: dom.frames,
      crashed: dom.crashed,
      shadowCount: dom.model.shadowCount(),
      vcpus: dom.vcpus.map((v) => ({
        threadId: (threads.find((t) => t.domain === dom.name && t.index === v.index)?.id ?? -2) + 1 || null,
        name: v.label,
        index: v.index,
        mode: v.state.mode,
        cr0: formatValue(dom.model.readCr(v, 0)),
        cr3: formatValue(dom.model.readCr(v, 3)),
        cr4: formatValue(dom.model.readCr(v, 4)),
        rc: formatValue(v.state.rc),
        fault: formatValue(v.state.fault),
        faultAddr: formatValue(v.state.faultAddr),
        faultCode: formatValue(v.state.faultCode),
        halted: v.state.halted,
      })),
    })),
  };
}

function frameTable(d: Debuggee, a: Record<string, unknown>, command: string): FrameTableResult {
  const ft = d.engine.machine.frameTable;
  const total = d.engine.machine.layout.frameCount;
  const start = requireInt(a, 'start', command);
  const count = Math.min(requireInt(a, 'count', command), 4096);
  const owner = a.owner === undefined ? null : requireInt(a, 'owner', command);
  const rows: FrameTableResult['rows'] = [];
  for (let mfn = start; mfn < Math.min(total, start + count); mfn++) {
    if (owner !== null && ft.owner(mfn) !== owner) continue;
    if (a.interestingOnly === true && !ft.differsFromInitial(mfn) && ft.typeName(mfn) === 'NONE') continue;
    const dom = d.engine.machine.domainById(ft.owner(mfn));
    const pfn = dom ? dom.mfnToPfn(mfn) : -1;
    rows.push({
      mfn,
      owner: ft.owner(mfn),
      pfn: pfn < 0 ? null : pfn,
      refCount: ft.refCount(mfn),
      type: ft.typeName(mfn),
      typeCount: ft.typeCount(mfn),
      validated: ft.validated(mfn),
      pinned: ft.pinned(mfn),
      m2p: formatValue(ft.m2p(mfn)),
    });
  }
  return { total, rows };
}

function walk(d: Debuggee, thread: number, va: bigint): WalkResult {
  const w = walkOf(d.engine, d.variables, thread, va);
  const text = walkText(d.engine, d.variables, thread, va);
  const { vcpu, domain } = d.variables.vcpuOf(thread);
  const levels = (w?.levels ?? []).map((l) => {
    const value = (BigInt(l.hi >>> 0) << 32n) | BigInt(l.lo >>> 0);
    return { level: l.level, frame: l.frame, mfn: l.mfn, index: l.index, entry: formatValue(value), flags: flagList(value) };
  }); // prettier-ignore
  const ma = domain.model.translate(vcpu, va);
  const gpa = domain.model.guestTranslate(vcpu, va);
  const okMa = ma >= 0n && ma !== (1n << 64n) - 1n;
  return {
    va: formatValue(va),
    ok: w?.ok ?? okMa,
    levels,
    gpa: okMa ? formatValue(gpa) : null,
    ma: okMa ? formatValue(ma) : null,
    pageSize: w?.ok ? w.pageSize : null,
    fault: w && !w.ok ? `${w.cause} at L${w.faultLevel}` : null,
    text,
    hap: domain.kind === 'hvm-hap' ? hapWalkGrid(domain, w, va) : null,
  };
}

function events(d: Debuggee, a: Record<string, unknown>, command: string): EventsResult {
  const start = optionalInt(a, 'start', command, 0);
  const count = Math.min(optionalInt(a, 'count', command, 100), 10_000);
  const classes = Array.isArray(a.classes) ? new Set(a.classes as string[]) : null;
  const vcpu =
    a.threadId === undefined
      ? null
      : d.engine.interpreter.threads()[requireInt(a, 'threadId', command, 1) - 1];
  const all = d.engine.events
    .map((e, index) => ({ e, index }))
    .filter(
      ({ e }) =>
        (classes === null || classes.has(e.class)) &&
        (!vcpu || (e.domain === vcpu.domain && e.vcpu === vcpu.index)),
    );
  return {
    total: all.length,
    events: all.slice(start, start + count).map(({ e, index }) => ({ index, ...eventToJson(e) })),
  };
}
