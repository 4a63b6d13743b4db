/**
 * The bodies of the breakpoint and inspection requests, one function each: `(debuggee, args) →
 * response body`, throwing AdapterError on bad arguments. The session only routes to them.
 */
import { Source, StackFrame } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { AdapterError, optionalInt, requireInt, requireObject, requireString } from './adapterError';
import type { EngineEvent } from '../engine/events/eventTypes';
import type { Debuggee } from './debuggee';
import { exceptionInfoBody } from './debuggee';
import { handlerChain, hypervisorDocument, stepIsHvm } from './hypervisorFrame';
import { parseMemoryReference, readMemory as readBytes } from './memory';

export function threadArg(d: Debuggee, args: unknown, command: string): number {
  const t = requireInt(requireObject(args, command), 'threadId', command, 1) - 1;
  if (t >= d.engine.interpreter.threads().length)
    throw new AdapterError('unknownThread', `no thread ${t + 1}`);
  return t;
}

/** Frame index of the synthetic hypervisor frame shown on top when stopped on an event. */
const HYPERVISOR_FRAME = 99_999;

/**
 * The hypervisor event the current stop is "in", when `thread` is the stopped one: the stop's
 * event, or the hypercall's result when the thread stepped into a hypercall. Non-null means a
 * hypervisor frame.
 */
export function stopEvent(d: Debuggee, thread: number): EngineEvent | null {
  if (d.lastStop?.thread !== thread) return null;
  const event = d.lastStop.decision?.event;
  // A failed `expect` and an audit's finding are the guest's and the debugger's, not Xen's doing.
  if (event) return event.class === 'expect_failed' || event.class === 'invariant' ? null : event;
  if (d.hypervisorThread !== thread) return null;
  return d.run.lastStepEvents().find((e) => e.class === 'hypercall_result') ?? null;
}

export function frameOf(
  d: Debuggee,
  frameId: unknown,
): { thread: number; frame: number; hypervisor: boolean } {
  if (typeof frameId !== 'number' || !Number.isInteger(frameId) || frameId < 100_000)
    throw new AdapterError('unknownReference', `no stack frame ${String(frameId)}`);
  const thread = Math.floor(frameId / 100_000) - 1;
  if (
    frameId % 100_000 === HYPERVISOR_FRAME &&
    thread < d.engine.interpreter.threads().length &&
    stopEvent(d, thread)
  )
    return { thread, frame: 0, hypervisor: true };
  const frame = frameId % 100_000;
  // A finished vCPU has no frames but one synthetic frame (index 0) that still shows its registers.
  if (
    thread >= d.engine.interpreter.threads().length ||
    frame >= Math.max(1, d.engine.interpreter.frames(thread).length)
  )
    throw new AdapterError('unknownReference', `no stack frame ${frameId}`);
  return { thread, frame, hypervisor: false };
}

export function setBreakpoints(
  d: Debuggee,
  args: DebugProtocol.SetBreakpointsArguments,
): DebugProtocol.SetBreakpointsResponse['body'] {
  const a = requireObject(args, 'setBreakpoints');
  const list = Array.isArray(a.breakpoints) ? (a.breakpoints as DebugProtocol.SourceBreakpoint[]) : [];
  if (list.some((b) => typeof b?.line !== 'number'))
    throw new AdapterError('badArguments', 'setBreakpoints: every breakpoint needs a line');
  return { breakpoints: d.breakpoints.setLineBreakpoints(list) };
}

export function breakpointLocations(
  d: Debuggee,
  args: DebugProtocol.BreakpointLocationsArguments,
): DebugProtocol.BreakpointLocationsResponse['body'] {
  const a = requireObject(args, 'breakpointLocations');
  const line = requireInt(a, 'line', 'breakpointLocations', 1);
  const end = optionalInt(a, 'endLine', 'breakpointLocations', line, 1);
  return { breakpoints: d.breakpoints.locations(line, end).map((l) => ({ line: l })) };
}

export function setFunctionBreakpoints(
  d: Debuggee,
  args: DebugProtocol.SetFunctionBreakpointsArguments,
): DebugProtocol.SetFunctionBreakpointsResponse['body'] {
  const a = requireObject(args, 'setFunctionBreakpoints');
  if (!Array.isArray(a.breakpoints))
    throw new AdapterError('badArguments', 'setFunctionBreakpoints: breakpoints must be a list');
  return {
    breakpoints: d.breakpoints.setFunctionBreakpoints(a.breakpoints as DebugProtocol.FunctionBreakpoint[]),
  };
}

export function setExceptionBreakpoints(
  d: Debuggee,
  args: DebugProtocol.SetExceptionBreakpointsArguments,
): DebugProtocol.SetExceptionBreakpointsResponse['body'] {
  const a = requireObject(args, 'setExceptionBreakpoints');
  if (!Array.isArray(a.filters))
    throw new AdapterError('badArguments', 'setExceptionBreakpoints: filters must be a list');
  return { breakpoints: d.breakpoints.setExceptionFilters(args) };
}

export function dataBreakpointInfo(
  d: Debuggee,
  args: DebugProtocol.DataBreakpointInfoArguments,
): DebugProtocol.DataBreakpointInfoResponse['body'] {
  const a = requireObject(args, 'dataBreakpointInfo');
  const name = requireString(a, 'name', 'dataBreakpointInfo');
  if (a.variablesReference !== undefined) {
    const ctx = d.variables.contextOf(requireInt(a, 'variablesReference', 'dataBreakpointInfo', 1));
    const index = /^\[(\d+)\]$/.exec(name);
    if (ctx?.kind === 'table' && index) return d.data.described(`pte:${ctx.mfn}:${index[1]}`);
    if (ctx?.kind === 'frames' && index) {
      const mfn = ctx.domain.pfnToMfn(Number(index[1]));
      if (mfn >= 0) return d.data.described(`frame:${mfn}`);
    }
    if (ctx?.kind === 'locals') return d.data.info(name, ctx.thread, ctx.frameIndex);
    return { dataId: null, description: `no data breakpoint for '${name}' here` };
  }
  const where =
    a.frameId === undefined ? { thread: d.lastStop?.thread ?? 0, frame: 0 } : frameOf(d, a.frameId);
  return d.data.info(name, where.thread, where.frame);
}

export function setDataBreakpoints(
  d: Debuggee,
  args: DebugProtocol.SetDataBreakpointsArguments,
): DebugProtocol.SetDataBreakpointsResponse['body'] {
  const a = requireObject(args, 'setDataBreakpoints');
  if (!Array.isArray(a.breakpoints))
    throw new AdapterError('badArguments', 'setDataBreakpoints: breakpoints must be a list');
  return { breakpoints: d.data.set(a.breakpoints as DebugProtocol.DataBreakpoint[]) };
}

export function stackTrace(
  d: Debuggee,
  args: DebugProtocol.StackTraceArguments,
): DebugProtocol.StackTraceResponse['body'] {
  const t = threadArg(d, args, 'stackTrace');
  const event = stopEvent(d, t);
  const guest = guestFrames(d, t);
  if (event === null) return { stackFrames: guest, totalFrames: guest.length };
  // Stopped in the hypervisor: a frame for its handler on top of the guest's, whose source is the
  // read-only text of the rule it applies (`source` request, reference = the position).
  const events = d.run.lastStepEvents();
  const chain = handlerChain(events, stepIsHvm(d.engine, events));
  const source = new Source(`xen: ${chain}`, undefined, d.run.position, 'hypervisor (read-only)');
  const xen = new StackFrame((t + 1) * 100_000 + HYPERVISOR_FRAME, `[hypervisor] ${event.class}: ${chain}`, source, 1, 1); // prettier-ignore
  return { stackFrames: [xen, ...guest], totalFrames: guest.length + 1 };
}

function guestFrames(d: Debuggee, t: number): StackFrame[] {
  const frames = d.engine.interpreter.frames(t);
  if (frames.length === 0) {
    // The vCPU finished (possibly in the very step that stopped): show where it ended.
    const info = d.engine.interpreter.threads()[t];
    const line = d.lastStop?.thread === t ? (d.lastStop.decision?.event?.line ?? info.line) : info.line;
    return [new StackFrame((t + 1) * 100_000, `${info.name} (${info.state})`, d.source, line, 1)];
  }
  return frames.map((f, i) => new StackFrame((t + 1) * 100_000 + i, f.name, d.source, f.line, f.column));
}

/** The read-only text of a hypervisor frame; its reference is the position after the step. */
export function source(
  d: Debuggee,
  args: DebugProtocol.SourceArguments,
): DebugProtocol.SourceResponse['body'] {
  const a = requireObject(args, 'source');
  const nested = a.source as { sourceReference?: unknown } | undefined;
  const ref = typeof nested?.sourceReference === 'number' ? nested.sourceReference : a.sourceReference;
  const step = typeof ref === 'number' && Number.isInteger(ref) ? ref : -1;
  const rec = step >= 1 && step <= d.run.position ? d.run.history.get(step - 1) : undefined;
  if (rec === undefined)
    throw new AdapterError(
      'unknownReference',
      `no hypervisor source ${String(ref)} at step ${d.run.position}`,
    );
  const events = d.run.eventsOf(rec);
  return { content: hypervisorDocument(step, events, stepIsHvm(d.engine, events)), mimeType: 'text/plain' };
}

export function scopes(
  d: Debuggee,
  args: DebugProtocol.ScopesArguments,
): DebugProtocol.ScopesResponse['body'] {
  const { thread, frame, hypervisor } = frameOf(d, requireObject(args, 'scopes').frameId);
  const event = hypervisor ? stopEvent(d, thread) : null;
  const guest = d.variables.scopes(thread, frame);
  return {
    scopes: event ? [d.variables.eventScope(event), ...guest.filter((s) => s.name !== 'Locals')] : guest,
  };
}

export function variables(
  d: Debuggee,
  args: DebugProtocol.VariablesArguments,
): DebugProtocol.VariablesResponse['body'] {
  const a = requireObject(args, 'variables');
  const ref = requireInt(a, 'variablesReference', 'variables', 1);
  const start = optionalInt(a, 'start', 'variables', 0, 0);
  const count = optionalInt(a, 'count', 'variables', 0, 0);
  return { variables: d.variables.variables(ref, start, count === 0 ? undefined : count) };
}

export function evaluate(
  d: Debuggee,
  args: DebugProtocol.EvaluateArguments,
): DebugProtocol.EvaluateResponse['body'] {
  const a = requireObject(args, 'evaluate');
  const expression = requireString(a, 'expression', 'evaluate');
  const where =
    a.frameId === undefined ? { thread: d.lastStop?.thread ?? 0, frame: 0 } : frameOf(d, a.frameId);
  const r = d.evaluator.evaluate(expression, where.thread, where.frame, args.context);
  return { result: r.result, variablesReference: 0, memoryReference: r.memoryReference };
}

export function completions(
  d: Debuggee,
  args: DebugProtocol.CompletionsArguments,
): DebugProtocol.CompletionsResponse['body'] {
  const a = requireObject(args, 'completions');
  const text = requireString(a, 'text', 'completions');
  return {
    targets: d.evaluator.completions(text, optionalInt(a, 'column', 'completions', text.length + 1, 1)),
  };
}

export function exceptionInfo(
  d: Debuggee,
  args: DebugProtocol.ExceptionInfoArguments,
): DebugProtocol.ExceptionInfoResponse['body'] {
  threadArg(d, args, 'exceptionInfo');
  const stop = d.lastStop;
  const event = stop?.decision?.event;
  if (!stop || !event)
    throw new AdapterError('badArguments', 'exceptionInfo: the program did not stop on an exception');
  return exceptionInfoBody(stop, event);
}

export function readMemory(
  d: Debuggee,
  args: DebugProtocol.ReadMemoryArguments,
): DebugProtocol.ReadMemoryResponse['body'] {
  const a = requireObject(args, 'readMemory');
  const target = parseMemoryReference(
    requireString(a, 'memoryReference', 'readMemory'),
    optionalInt(a, 'offset', 'readMemory', 0, -(2 ** 40)),
  );
  const count = requireInt(a, 'count', 'readMemory', 0);
  if (count > 1 << 20) throw new AdapterError('badArguments', 'readMemory: at most 1 MiB at a time');
  return readBytes(d.engine, target, count);
}
