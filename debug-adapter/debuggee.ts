/**
 * A launched program and the parts that serve it, the adapter's capabilities, and the body of
 * `exceptionInfo` — what the session needs beyond request plumbing.
 */
import { Source } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { basename } from 'node:path';
import type { Engine } from '../engine/engine';
import type { EngineEvent } from '../engine/events/eventTypes';
import { toJsonValue } from '../engine/events/eventJson';
import { Breakpoints } from './breakpoints';
import { DataBreakpoints } from './dataBreakpoints';
import { Evaluator } from './evaluate';
import { EXCEPTION_FILTER_IDS } from './protocol';
import { RunControl } from './runControl';
import type { RunHooks, Stop } from './runControl';
import { Variables } from './variables';

export interface Debuggee {
  engine: Engine;
  breakpoints: Breakpoints;
  data: DataBreakpoints;
  run: RunControl;
  variables: Variables;
  evaluator: Evaluator;
  lastStop: Stop | null;
  source: Source;
  /** The thread stopped inside a hypercall it stepped into (the hypervisor frame is on top). */
  hypervisorThread: number | null;
  /** A stepIn is running on this thread: a hypercall step ends it inside the hypervisor. */
  stepInPending: number | null;
}

export function createDebuggee(engine: Engine, program: string, maxSteps: number, hooks: RunHooks): Debuggee {
  const breakpoints = new Breakpoints(engine);
  const variables = new Variables(engine);
  const data = new DataBreakpoints(engine, variables);
  return {
    engine,
    breakpoints,
    data,
    run: new RunControl(engine, breakpoints, data, hooks, maxSteps),
    variables,
    evaluator: new Evaluator(engine, variables),
    lastStop: null,
    source: new Source(basename(program), program),
    hypervisorThread: null,
    stepInPending: null,
  };
}

const FILTER_LABELS: Record<string, string> = {
  'page-fault': 'Page faults (#PF)',
  'gp-fault': 'General protection faults (#GP)',
  'cr-write': 'Control register writes',
  'hypercall-error': 'Failed hypercalls',
  'ptwr-emulate': 'Writable page-table emulation',
  'shadow-fixup': 'Shadow fix-ups',
  'shadow-emulate': 'Shadow write emulation',
  'oos-resync': 'Out-of-sync resyncs',
  unshadow: 'Unshadow',
  npf: 'Nested page faults',
  mmio: 'MMIO accesses',
  'expect-failed': 'Failed expectations',
  invariant: 'Invariant violations (audits)',
};

export const CAPABILITIES: DebugProtocol.Capabilities = {
  supportsConfigurationDoneRequest: true,
  supportsConditionalBreakpoints: true,
  supportsHitConditionalBreakpoints: true,
  supportsLogPoints: true,
  supportsFunctionBreakpoints: true,
  supportsBreakpointLocationsRequest: true,
  supportsDataBreakpoints: true,
  supportsEvaluateForHovers: true,
  supportsStepBack: true,
  supportsCompletionsRequest: true,
  supportsExceptionInfoRequest: true,
  supportsExceptionFilterOptions: true,
  supportsReadMemoryRequest: true,
  supportsWriteMemoryRequest: true,
  supportsTerminateRequest: true,
  supportsSteppingGranularity: false,
  exceptionBreakpointFilters: EXCEPTION_FILTER_IDS.map((id) => ({
    filter: id,
    label: FILTER_LABELS[id],
    default: id === 'expect-failed',
    supportsCondition: true,
    conditionDescription: 'a guest-language expression over the event fields, e.g. value == 0x1000',
  })),
};

/** The event's fields (JSON form, events.md §1) and explanation; the other matches as inner exceptions. */
export function exceptionInfoBody(
  stop: Stop,
  event: EngineEvent,
): DebugProtocol.ExceptionInfoResponse['body'] {
  return {
    exceptionId: stop.decision?.filter ?? event.class,
    description: stop.text ?? undefined,
    breakMode: 'always',
    details: {
      message: event.explanation ?? stop.text ?? event.class,
      typeName: event.class,
      stackTrace: JSON.stringify(toJsonValue(event), null, 2),
      innerException: stop.decision?.others.map((o) => ({
        typeName: o.class,
        message: o.explanation ?? o.class,
      })),
    },
  };
}
