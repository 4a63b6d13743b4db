/**
 * The DAP session: thin. Each request goes through `handle`, which runs a handler returning a body
 * (or throwing an AdapterError) and turns every failure into one error response — so malformed or
 * out-of-order requests never crash or hang the adapter. The work lives in RunControl, Breakpoints,
 * Variables, Evaluator, memory and customRequests.
 */
import { readFileSync } from 'node:fs';
import { DebugSession, InitializedEvent, OutputEvent, StoppedEvent, TerminatedEvent, Thread, ExitedEvent, InvalidatedEvent, MemoryEvent, Event } from '@vscode/debugadapter'; // prettier-ignore
import type { DebugProtocol } from '@vscode/debugprotocol';
import { loadEngine } from '../engine/engine';
import type { Engine } from '../engine/engine';
import { formatTraceLine } from '../engine/events/eventJson';
import { formatDiagnostic } from '../engine/language';
import { AdapterError, asAdapterError, optionalInt, requireInt, requireObject, requireString, toErrorMessage } from './adapterError'; // prettier-ignore
import { customRequest } from './customRequests';
import { handlerChain, isHypercallStep, stepIsHvm } from './hypervisorFrame';
import { parseMemoryReference, writeMemory } from './memory';
import * as requests from './inspectionRequests';
import { CAPABILITIES, createDebuggee } from './debuggee';
import type { Debuggee } from './debuggee';
import type { StateChangedEventBody } from './protocol';
import type { Stop } from './runControl';

export class PagewalkSession extends DebugSession {
  private debuggee: Debuggee | null = null;
  private configurationDone: () => void = () => undefined;
  private readonly configured = new Promise<void>((resolve) => (this.configurationDone = resolve));
  private trace = false;

  constructor() {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  /** Every request's funnel: a body or an error response, never a thrown exception. */
  private handle<R extends DebugProtocol.Response>(
    response: R,
    work: () => R['body'] | Promise<R['body']> | void,
  ): void {
    Promise.resolve()
      .then(work)
      .then(
        (body) => {
          if (body !== undefined) response.body = body;
          this.sendResponse(response);
        },
        (e: unknown) => {
          const error = asAdapterError(e);
          this.sendErrorResponse(response, toErrorMessage(error));
        },
      );
  }

  private get d(): Debuggee {
    if (this.debuggee === null) throw new AdapterError('notLaunched', 'no program is running: launch first');
    return this.debuggee;
  }

  private stopped(): Debuggee {
    const d = this.d;
    if (d.run.running) throw new AdapterError('notStopped', 'the program is running: pause first');
    return d;
  }

  private thread(args: unknown, command: string, key = 'threadId'): number {
    const t = requireInt(requireObject(args, command), key, command, 1) - 1;
    if (t >= this.d.engine.interpreter.threads().length)
      throw new AdapterError('unknownThread', `no thread ${t + 1}`);
    return t;
  }

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = CAPABILITIES;
    this.sendResponse(response);
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.configurationDone();
    this.sendResponse(response);
  }

  protected override launchRequest(
    response: DebugProtocol.LaunchResponse,
    args: DebugProtocol.LaunchRequestArguments,
  ): void {
    this.handle(response, async () => {
      if (this.debuggee !== null) throw new AdapterError('badArguments', 'launch: already launched');
      const a = requireObject(args, 'launch');
      const program = requireString(a, 'program', 'launch');
      const maxSteps = optionalInt(a, 'maxSteps', 'launch', 10_000_000, 1);
      this.trace = a.trace === true;
      let text: string;
      try {
        text = readFileSync(program, 'utf8');
      } catch (e) {
        throw new AdapterError('launchFailed', `cannot read ${program}: ${(e as Error).message}`);
      }
      const { engine, diagnostics } = loadEngine(text, program);
      if (engine === null) {
        const lines = diagnostics.map((diag) => formatDiagnostic(program, diag));
        for (const line of lines) this.sendEvent(new OutputEvent(line + '\n', 'stderr'));
        throw new AdapterError('launchFailed', lines.join('\n'));
      }
      this.setup(engine, program, maxSteps);
      const noDebug = a.noDebug === true;
      if (noDebug) this.d.breakpoints.ignoreAll = true;
      this.sendEvent(new InitializedEvent());
      await Promise.race([this.configured, new Promise((r) => setTimeout(r, 2000))]);
      if (a.stopOnEntry === true && !noDebug)
        this.onStop({ reason: 'entry', thread: 0, text: null, decision: null });
      else setImmediate(() => void this.d.run.forward(null));
    });
  }

  private setup(engine: Engine, program: string, maxSteps: number): void {
    this.debuggee = createDebuggee(engine, program, maxSteps, {
      output: (stream, text) => this.sendEvent(new OutputEvent(text + '\n', stream)),
      events: (events) => {
        if (this.trace)
          for (const e of events) this.sendEvent(new OutputEvent(formatTraceLine(e) + '\n', 'console'));
      },
      stopped: (stop) => this.onStop(stop),
      ended: () => this.onEnd(),
    });
  }

  private onStop(stop: Stop): void {
    const d = this.d;
    d.lastStop = stop;
    d.variables.reset();
    // A stepIn whose step was a hypercall stops inside it: the hypervisor frame on top.
    const entered =
      stop.reason === 'step' && d.stepInPending === stop.thread && isHypercallStep(d.run.lastStepEvents());
    d.hypervisorThread = entered ? stop.thread : null;
    d.stepInPending = null;
    const events = d.run.lastStepEvents();
    const text = entered
      ? `in the hypervisor: ${handlerChain(events, stepIsHvm(d.engine, events))}`
      : stop.text;
    const ev = new StoppedEvent(
      stop.reason,
      stop.thread + 1,
      text ?? undefined,
    ) as DebugProtocol.StoppedEvent;
    ev.body.description = text ?? undefined;
    ev.body.allThreadsStopped = true;
    if (stop.decision?.hitBreakpointIds.length) ev.body.hitBreakpointIds = stop.decision.hitBreakpointIds;
    this.sendEvent(ev);
    const body: StateChangedEventBody = {
      step: d.engine.stepCount,
      eventCount: d.engine.events.length,
      reason: stop.reason,
    };
    this.sendEvent(new Event('pagewalk/stateChanged', body));
  }

  private onEnd(): void {
    const d = this.d;
    d.stepInPending = null;
    const failed = d.engine.events.some((e) => e.class === 'expect_failed');
    const errored = d.engine.output.some((l) => l.stream === 'stderr');
    this.sendEvent(new ExitedEvent(failed ? 1 : errored ? 3 : 0));
    this.sendEvent(new TerminatedEvent());
  }

  protected override setBreakPointsRequest(
    response: DebugProtocol.SetBreakpointsResponse,
    args: DebugProtocol.SetBreakpointsArguments,
  ): void {
    this.handle(response, () => requests.setBreakpoints(this.d, args));
  }

  protected override breakpointLocationsRequest(
    response: DebugProtocol.BreakpointLocationsResponse,
    args: DebugProtocol.BreakpointLocationsArguments,
  ): void {
    this.handle(response, () => requests.breakpointLocations(this.d, args));
  }

  protected override setFunctionBreakPointsRequest(
    response: DebugProtocol.SetFunctionBreakpointsResponse,
    args: DebugProtocol.SetFunctionBreakpointsArguments,
  ): void {
    this.handle(response, () => requests.setFunctionBreakpoints(this.d, args));
  }

  protected override setExceptionBreakPointsRequest(
    response: DebugProtocol.SetExceptionBreakpointsResponse,
    args: DebugProtocol.SetExceptionBreakpointsArguments,
  ): void {
    this.handle(response, () => requests.setExceptionBreakpoints(this.d, args));
  }

  protected override dataBreakpointInfoRequest(
    response: DebugProtocol.DataBreakpointInfoResponse,
    args: DebugProtocol.DataBreakpointInfoArguments,
  ): void {
    this.handle(response, () => requests.dataBreakpointInfo(this.stopped(), args));
  }

  protected override setDataBreakpointsRequest(
    response: DebugProtocol.SetDataBreakpointsResponse,
    args: DebugProtocol.SetDataBreakpointsArguments,
  ): void {
    this.handle(response, () => requests.setDataBreakpoints(this.d, args));
  }

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    this.handle(response, () => {
      const threads = this.debuggee?.engine.interpreter.threads() ?? [];
      return {
        threads: threads.map(
          (t) => new Thread(t.id + 1, `${t.name}${t.state === 'running' ? '' : ` (${t.state})`}`),
        ),
      };
    });
  }

  protected override stackTraceRequest(
    response: DebugProtocol.StackTraceResponse,
    args: DebugProtocol.StackTraceArguments,
  ): void {
    this.handle(response, () => requests.stackTrace(this.stopped(), args));
  }

  protected override scopesRequest(
    response: DebugProtocol.ScopesResponse,
    args: DebugProtocol.ScopesArguments,
  ): void {
    this.handle(response, () => requests.scopes(this.stopped(), args));
  }

  protected override variablesRequest(
    response: DebugProtocol.VariablesResponse,
    args: DebugProtocol.VariablesArguments,
  ): void {
    this.handle(response, () => requests.variables(this.stopped(), args));
  }

  protected override evaluateRequest(
    response: DebugProtocol.EvaluateResponse,
    args: DebugProtocol.EvaluateArguments,
  ): void {
    this.handle(response, () => requests.evaluate(this.stopped(), args));
  }

  protected override completionsRequest(
    response: DebugProtocol.CompletionsResponse,
    args: DebugProtocol.CompletionsArguments,
  ): void {
    this.handle(response, () => requests.completions(this.d, args));
  }

  protected override exceptionInfoRequest(
    response: DebugProtocol.ExceptionInfoResponse,
    args: DebugProtocol.ExceptionInfoArguments,
  ): void {
    this.handle(response, () => requests.exceptionInfo(this.stopped(), args));
  }

  // ---- run control ----

  private resume(
    response: DebugProtocol.Response,
    args: unknown,
    command: string,
    goal: (d: Debuggee, t: number) => ((rec: { thread: number; depthBefore: number }) => boolean) | null,
  ): void {
    this.handle(response, () => {
      const d = this.stopped();
      const t =
        command === 'continue' && (args as { threadId?: unknown })?.threadId === undefined
          ? 0
          : this.thread(args, command);
      if (command !== 'continue' && this.leavesHypervisor(d, t, command)) {
        // The hypercall already ran in the step that entered it: leaving runs nothing.
        setImmediate(() => this.onStop({ reason: 'step', thread: t, text: null, decision: null }));
        return undefined;
      }
      const g = goal(d, t);
      d.stepInPending = command === 'stepIn' ? t : null;
      d.variables.reset();
      setImmediate(() => void d.run.forward(g));
      return command === 'continue' ? { allThreadsContinued: true } : undefined;
    });
  }

  /**
   * Any step from inside a stepped-into hypercall returns to the guest; stepOut also leaves the
   * hypervisor frame of an event stop.
   */
  private leavesHypervisor(d: Debuggee, t: number, command: string): boolean {
    if (d.hypervisorThread === t) return true;
    return command === 'stepOut' && requests.stopEvent(d, t) !== null;
  }

  protected override sourceRequest(
    response: DebugProtocol.SourceResponse,
    args: DebugProtocol.SourceArguments,
  ): void {
    this.handle(response, () => requests.source(this.d, args));
  }

  protected override continueRequest(
    response: DebugProtocol.ContinueResponse,
    args: DebugProtocol.ContinueArguments,
  ): void {
    this.resume(response, args, 'continue', () => null);
  }

  protected override nextRequest(
    response: DebugProtocol.NextResponse,
    args: DebugProtocol.NextArguments,
  ): void {
    this.resume(response, args, 'next', (d, t) => {
      const depth = d.run.depth(t);
      return (rec) => rec.thread === t && (d.run.depth(t) <= depth || d.run.depth(t) === 0);
    });
  }

  protected override stepInRequest(
    response: DebugProtocol.StepInResponse,
    args: DebugProtocol.StepInArguments,
  ): void {
    this.resume(response, args, 'stepIn', (_d, t) => (rec) => rec.thread === t);
  }

  protected override stepOutRequest(
    response: DebugProtocol.StepOutResponse,
    args: DebugProtocol.StepOutArguments,
  ): void {
    this.resume(response, args, 'stepOut', (d, t) => {
      const depth = d.run.depth(t);
      return (rec) => rec.thread === t && d.run.depth(t) < depth;
    });
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.handle(response, () => {
      this.d.run.pause();
    });
  }

  protected override stepBackRequest(
    response: DebugProtocol.StepBackResponse,
    args: DebugProtocol.StepBackArguments,
  ): void {
    this.handle(response, () => {
      const d = this.stopped();
      const t = this.thread(args, 'stepBack');
      d.stepInPending = null;
      const depth = d.run.depth(t);
      const target = d.run.findBack((rec) => rec.thread === t && rec.depthBefore <= Math.max(depth, 1));
      setImmediate(() => d.run.backTo(target, 'step', t));
    });
  }

  protected override reverseContinueRequest(
    response: DebugProtocol.ReverseContinueResponse,
    args: DebugProtocol.ReverseContinueArguments,
  ): void {
    this.handle(response, () => {
      const d = this.stopped();
      const t = this.thread(args, 'reverseContinue');
      d.stepInPending = null;
      setImmediate(() => void d.run.reverseContinue(t));
    });
  }

  protected override readMemoryRequest(
    response: DebugProtocol.ReadMemoryResponse,
    args: DebugProtocol.ReadMemoryArguments,
  ): void {
    this.handle(response, () => requests.readMemory(this.stopped(), args));
  }

  protected override writeMemoryRequest(
    response: DebugProtocol.WriteMemoryResponse,
    args: DebugProtocol.WriteMemoryArguments,
  ): void {
    this.handle(response, () => {
      const d = this.stopped();
      const a = requireObject(args, 'writeMemory');
      const ref = requireString(a, 'memoryReference', 'writeMemory');
      const target = parseMemoryReference(ref, optionalInt(a, 'offset', 'writeMemory', 0, -(2 ** 40)));
      const data = Buffer.from(requireString(a, 'data', 'writeMemory'), 'base64');
      const written = writeMemory(d.engine, target, data);
      d.run.truncateHistory();
      d.variables.reset();
      d.data.rebase();
      this.sendEvent(new MemoryEvent(ref, optionalInt(a, 'offset', 'writeMemory', 0, -(2 ** 40)), written));
      this.sendEvent(new InvalidatedEvent(['variables']));
      return { bytesWritten: written };
    });
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.handle(response, () => {
      this.debuggee?.run.pause();
      this.sendEvent(new TerminatedEvent());
    });
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    this.debuggee?.run.pause();
    this.sendResponse(response);
  }

  protected override customRequest(command: string, response: DebugProtocol.Response, args: unknown): void {
    this.handle(response, () => {
      if (!command.startsWith('pagewalk/'))
        throw new AdapterError('unsupported', `unknown request '${command}'`);
      const d = this.stopped();
      d.stepInPending = null; // a reverse request's stop is no step into a hypercall
      return customRequest(d, command, args) as DebugProtocol.Response['body'];
    });
  }
}
