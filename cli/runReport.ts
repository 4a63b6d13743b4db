/**
 * The `--json` object of `pagewalk run` (cli.md): status, steps, expectations, output, errors,
 * events and domains with their vCPUs and the frames whose state differs from a fresh frame's.
 * Counts, indexes, ids, memory and frame numbers are JSON numbers; other integers are `"0x…"`.
 */
import type { Engine } from '../engine/engine';
import { eventToJson, hex } from '../engine/events/eventJson';
import { PAGE_TYPE_NAMES } from '../engine/machine/frameTable';

export type RunStatus = 'ok' | 'expect-failed' | 'rejected' | 'runtime-error' | 'step-limit';

const FAULT_NAMES: Record<string, string> = { '0': 'NOFAULT', '13': 'GP', '14': 'PF' };

export function runReport(
  status: RunStatus,
  engine: Engine | null,
  output: string[],
  errors: string[],
): object {
  const expectations = engine?.interpreter.expectations ?? { passed: 0, failed: 0 };
  return {
    status,
    steps: engine?.stepCount ?? 0,
    expectations: { passed: expectations.passed, failed: expectations.failed },
    output,
    errors,
    events: engine === null ? [] : engine.events.map(eventToJson),
    domains: engine === null ? [] : domainReports(engine),
  };
}

function domainReports(engine: Engine): object[] {
  const machine = engine.machine;
  const ft = machine.frameTable;
  return machine.domains.map((d) => {
    const frames: object[] = [];
    for (const mfn of ft.candidateFrames()) {
      if (!d.ownsMfn(mfn) || !ft.differsFromInitial(mfn)) continue;
      frames.push({
        mfn,
        pfn: hex(ft.m2p(mfn)),
        type: PAGE_TYPE_NAMES[ft.type(mfn)],
        type_count: ft.typeCount(mfn),
        ref_count: ft.refCount(mfn),
        validated: ft.validated(mfn),
        pinned: ft.pinned(mfn),
        owner: ft.owner(mfn),
      });
    }
    return {
      name: d.name,
      id: d.id,
      kind: d.kind,
      memory: Number(d.config.memory),
      vcpus: d.vcpus.map((v) => ({
        index: v.index,
        mode: v.state.mode,
        cr0: hex(d.model.readCr(v, 0)),
        cr3: hex(d.model.readCr(v, 3)),
        cr4: hex(d.model.readCr(v, 4)),
        rc: hex(v.state.rc),
        done: Number(v.state.done),
        fault: FAULT_NAMES[v.state.fault.toString()] ?? hex(v.state.fault),
        fault_addr: hex(v.state.faultAddr),
        fault_code: hex(v.state.faultCode),
      })),
      frames,
    };
  });
}
