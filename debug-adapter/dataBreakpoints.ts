/**
 * Semantic data breakpoints: a variable of a vCPU frame, a page-table entry (an mfn's qword), a
 * frame's type/count state, and "the leaf entry that maps VA v" (re-walked at every step, so it
 * follows the mapping when an upper level changes). Each is a *sample*: a string computed from the
 * machine at a position; a stop happens at the first position whose sample differs from the one
 * before. Sampling is pure, so reverse execution asks the same question while it replays.
 *
 * dataIds: `var:THREAD:DEPTH:NAME` (DEPTH counted from the outermost frame, so it survives calls),
 * `pte:MFN:INDEX`, `frame:MFN`, `leaf:THREAD:VA`.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Engine } from '../engine/engine';
import { formatValue } from '../engine/language';
import { describeFlags } from '../engine/paging/pte';
import { AdapterError, parseBig } from './adapterError';
import type { StopDecision } from './breakpoints';
import { walkOf } from './evaluate';
import type { Variables } from './variables';

interface DataBreakpoint {
  id: number;
  dataId: string;
  label: string;
  sample: () => string;
}

export class DataBreakpoints {
  private list: DataBreakpoint[] = [];
  private last: string[] = [];
  private nextId = 100_000;

  constructor(
    private readonly engine: Engine,
    private readonly variables: Variables,
  ) {}

  get active(): boolean {
    return this.list.length > 0;
  }

  /** dataBreakpointInfo for a name typed by the user (`pte MFN INDEX`, `frame MFN`, `leaf VA`, a variable). */
  info(name: string, thread: number, frameIndex: number): DebugProtocol.DataBreakpointInfoResponse['body'] {
    const words = name.trim().split(/\s+/);
    const n = (i: number) => {
      const v = parseBig(words[i]);
      if (v === null) throw new AdapterError('badArguments', `'${name}': expected a number at word ${i + 1}`);
      return v;
    };
    if (words[0] === 'pte' && words.length === 3) return this.described(`pte:${n(1)}:${n(2)}`);
    if (words[0] === 'frame' && words.length === 2) return this.described(`frame:${n(1)}`);
    if (words[0] === 'leaf' && words.length === 2)
      return this.described(`leaf:${thread}:${formatValue(n(1))}`);
    const frames = this.engine.interpreter.frames(thread);
    const frame = frames[frameIndex];
    if (frame?.variables.some((v) => v.name === name))
      return this.described(`var:${thread}:${frames.length - 1 - frameIndex}:${name}`);
    return {
      dataId: null,
      description: `no data breakpoint for '${name}' (try pte MFN INDEX, frame MFN, leaf VA)`,
    };
  }

  described(dataId: string): DebugProtocol.DataBreakpointInfoResponse['body'] {
    return { dataId, description: this.make(dataId, 0).label, accessTypes: ['write'], canPersist: true };
  }

  set(requested: readonly DebugProtocol.DataBreakpoint[]): DebugProtocol.Breakpoint[] {
    this.list = [];
    const out = requested.map((r) => {
      try {
        const bp = this.make(String(r.dataId), this.nextId++);
        bp.sample();
        this.list.push(bp);
        return { id: bp.id, verified: true, message: bp.label };
      } catch (e) {
        return { verified: false, message: e instanceof Error ? e.message : String(e) };
      }
    });
    this.rebase();
    return out;
  }

  /** Takes the current samples as the baseline (after a stop, a jump in time or a write). */
  rebase(): void {
    this.last = this.list.map((b) => b.sample());
  }

  /** Compares with the baseline, moves the baseline, and says whether something changed. */
  check(thread: number): StopDecision | null {
    if (this.list.length === 0) return null;
    const now = this.list.map((b) => b.sample());
    const changed = this.list.filter((_, i) => now[i] !== this.last[i]);
    const text = changed.map(
      (b) => `${b.label}: ${this.last[this.list.indexOf(b)]} → ${now[this.list.indexOf(b)]}`,
    );
    this.last = now;
    if (changed.length === 0) return null;
    return {
      reason: 'data breakpoint',
      thread,
      text: text.join('; '),
      hitBreakpointIds: changed.map((b) => b.id),
      event: null,
      filter: null,
      others: [],
    };
  }

  private make(dataId: string, id: number): DataBreakpoint {
    const parts = dataId.split(':');
    const bad = () => new AdapterError('badArguments', `unknown data breakpoint id '${dataId}'`);
    const num = (s: string | undefined) => {
      const v = parseBig(s);
      if (v === null) throw bad();
      return v;
    };
    const mem = this.engine.machine.memory;
    const ft = this.engine.machine.frameTable;
    switch (parts[0]) {
      case 'var': {
        const [thread, depth, name] = [Number(num(parts[1])), Number(num(parts[2])), parts[3]];
        const label = `variable ${name} (thread ${thread + 1}, frame depth ${depth})`;
        return {
          id, dataId, label,
          sample: () => {
            const frames = this.engine.interpreter.frames(thread);
            const v = frames[frames.length - 1 - depth]?.variables.find((x) => x.name === name)?.value;
            return v === undefined ? '<unset>' : formatValue(v);
          },
        }; // prettier-ignore
      }
      case 'pte': {
        const [mfn, index] = [Number(num(parts[1])), Number(num(parts[2]))];
        if (!ft.isValid(mfn) || index > 511) throw bad();
        const label = `entry ${index} of mfn ${formatValue(BigInt(mfn))}`;
        return { id, dataId, label, sample: () => formatValue(mem.readEntry(mfn, index)) };
      }
      case 'frame': {
        const mfn = Number(num(parts[1]));
        if (!ft.isValid(mfn)) throw bad();
        return {
          id, dataId,
          label: `frame state of mfn ${formatValue(BigInt(mfn))}`,
          sample: () => `${ft.typeName(mfn)} type_count ${ft.typeCount(mfn)} ref_count ${ft.refCount(mfn)}${ft.pinned(mfn) ? ' pinned' : ''}${ft.validated(mfn) ? ' validated' : ''}`,
        }; // prettier-ignore
      }
      case 'leaf': {
        const [thread, va] = [Number(num(parts[1])), num(parts[2])];
        this.variables.vcpuOf(thread);
        return {
          id, dataId,
          label: `leaf entry mapping ${formatValue(va)}`,
          sample: () => {
            const w = walkOf(this.engine, this.variables, thread, va);
            const leaf = w?.levels[w.levels.length - 1];
            if (!w || !leaf) return 'paging off';
            const value = (BigInt(leaf.hi >>> 0) << 32n) | BigInt(leaf.lo >>> 0);
            return `L${leaf.level} mfn ${formatValue(BigInt(leaf.mfn))}[${leaf.index}] = ${formatValue(value)} ${describeFlags(value)}`;
          },
        }; // prettier-ignore
      }
      default:
        throw bad();
    }
  }
}
