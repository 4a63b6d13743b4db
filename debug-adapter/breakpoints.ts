/**
 * Every kind of breakpoint and the one question the run loop asks: "does the state after step n
 * stop?" (`check`). The same check runs forward and backward (reverse execution replays and asks it
 * at every position), so every kind of breakpoint also fires backwards; only hit counts and
 * logpoints are forward-only effects, because counting or printing twice on a replay would lie.
 *
 * Order at one position: events of the step just run (exception filters, event-class function
 * breakpoints, a failed `expect`) first — they stop "at the end of the step" (events.md §6.1) — then
 * the statement about to run (line breakpoints, hypercall/op function breakpoints).
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Engine } from '../engine/engine';
import type { EngineEvent } from '../engine/events/eventTypes';
import { EVENT_FIELD_ORDER } from '../engine/events/eventTypes';
import { MMUEXT_OPS, breakpointLine, formatValue, parseExpression } from '../engine/language';
import { eventBindings, filterOf, statementNames, stopText } from './eventStops';
import { EXCEPTION_FILTER_IDS } from './protocol';
import type { ExceptionFilterId } from './protocol';

export interface StopDecision {
  reason: 'breakpoint' | 'function breakpoint' | 'exception' | 'data breakpoint';
  /** Thread index (DAP thread id − 1 is not used: ids are index + 1). */
  thread: number;
  text: string;
  hitBreakpointIds: number[];
  event: EngineEvent | null;
  filter: ExceptionFilterId | null;
  /** Further events of the same step that matched (§6.1: the stop's details list the others). */
  others: EngineEvent[];
}

interface Conditional {
  condition: string | null;
  hitCondition: ((n: number) => boolean) | null;
  hits: number;
}

interface LineBreakpoint extends Conditional {
  id: number;
  line: number;
  logMessage: string | null;
}

interface FunctionBreakpoint extends Conditional {
  id: number;
  name: string;
}

const EVENT_CLASSES = new Set(Object.keys(EVENT_FIELD_ORDER));
const STATEMENT_NAMES = new Set(['mmu_update', 'mmuext', 'update_va_mapping']);

/** `N`, `>= N`, `> N`, `== N`, `< N`, `<= N`, `% N`; null when malformed. */
export function parseHitCondition(text: string): ((n: number) => boolean) | null {
  const m = /^\s*(>=|>|==|=|<=|<|%)?\s*(\d+)\s*$/.exec(text);
  if (!m) return null;
  const k = Number(m[2]);
  switch (m[1]) {
    case '>':
      return (n) => n > k;
    case '==':
    case '=':
      return (n) => n === k;
    case '<':
      return (n) => n < k;
    case '<=':
      return (n) => n <= k;
    case '%':
      return (n) => k > 0 && n % k === 0;
    default:
      return (n) => n >= k;
  }
}

export interface CheckOptions {
  /** Forward execution: count hits and emit logpoints. */
  forward: boolean;
  /** Skip the statement-about-to-run checks (resuming from the position where we are stopped). */
  skipBefore: boolean;
  /** The events of the step that led to this position. */
  stepEvents: readonly EngineEvent[];
  /** Logpoint output sink. */
  log: (text: string) => void;
}

export class Breakpoints {
  private nextId = 1;
  private lines: LineBreakpoint[] = [];
  private functions: FunctionBreakpoint[] = [];
  private filters = new Map<ExceptionFilterId, string | null>();
  private readonly sourceLines: string[];
  /** `noDebug` launch: nothing stops the run (a failed `expect` ends it, as `pagewalk run` does). */
  ignoreAll = false;
  /** The hypercall/op names of each line's statement, computed once: the check runs every step. */
  private readonly namesOfLine = new Map<number, string[]>();

  constructor(private readonly engine: Engine) {
    this.sourceLines = engine.program.source.split(/\r?\n/);
  }

  setLineBreakpoints(requested: readonly DebugProtocol.SourceBreakpoint[]): DebugProtocol.Breakpoint[] {
    this.lines = [];
    return requested.map((bp) => {
      const id = this.nextId++;
      const line = breakpointLine(this.engine.program, bp.line);
      const problem = this.checkConditional(bp.condition, bp.hitCondition);
      if (line === null || problem !== null)
        return {
          id,
          verified: false,
          line: bp.line,
          message: problem ?? 'no statement at or after this line',
        };
      this.lines.push({
        id,
        line,
        logMessage: bp.logMessage ?? null,
        ...this.conditional(bp.condition, bp.hitCondition),
      });
      return { id, verified: true, line };
    });
  }

  setFunctionBreakpoints(requested: readonly DebugProtocol.FunctionBreakpoint[]): DebugProtocol.Breakpoint[] {
    this.functions = [];
    return requested.map((bp) => {
      const id = this.nextId++;
      const known = STATEMENT_NAMES.has(bp.name) || EVENT_CLASSES.has(bp.name) || isMmuextOp(bp.name);
      const problem = known
        ? this.checkConditional(bp.condition, bp.hitCondition)
        : `'${bp.name}' is no hypercall, mmuext op or event class`;
      if (problem !== null) return { id, verified: false, message: problem };
      this.functions.push({ id, name: bp.name, ...this.conditional(bp.condition, bp.hitCondition) });
      return { id, verified: true };
    });
  }

  setExceptionFilters(args: DebugProtocol.SetExceptionBreakpointsArguments): DebugProtocol.Breakpoint[] {
    this.filters.clear();
    const out: DebugProtocol.Breakpoint[] = [];
    const add = (id: string, condition: string | undefined) => {
      if (!(EXCEPTION_FILTER_IDS as readonly string[]).includes(id)) {
        out.push({ verified: false, message: `unknown exception filter '${id}'` });
        return;
      }
      const problem = this.checkConditional(condition, undefined);
      if (problem !== null) {
        out.push({ verified: false, message: problem });
        return;
      }
      this.filters.set(id as ExceptionFilterId, condition?.trim() ? condition : null);
      out.push({ verified: true });
    };
    for (const id of args.filters ?? []) add(id, undefined);
    for (const o of args.filterOptions ?? []) add(o.filterId, o.condition);
    return out;
  }

  get invariantFilterOn(): boolean {
    return !this.ignoreAll && this.filters.has('invariant');
  }

  /** Lines where a breakpoint can stand, within [line, endLine]. */
  locations(line: number, endLine: number): number[] {
    return this.engine.program.stepLines.filter((l) => l >= line && l <= endLine);
  }

  check(o: CheckOptions): StopDecision | null {
    if (this.ignoreAll) return null;
    return this.checkEvents(o) ?? (o.skipBefore ? null : this.checkStatement(o));
  }

  private checkEvents(o: CheckOptions): StopDecision | null {
    let found: StopDecision | null = null;
    for (const event of o.stepEvents) {
      const decision = this.eventStop(event, o);
      if (decision === null) continue;
      if (found === null) found = decision;
      else found.others.push(event);
    }
    return found;
  }

  private eventStop(event: EngineEvent, o: CheckOptions): StopDecision | null {
    const thread = this.threadOf(event);
    const filter = filterOf(event);
    if (filter !== null && (this.filters.has(filter) || filter === 'expect-failed')) {
      const condition = this.filters.get(filter) ?? null;
      const verdict = this.evaluateCondition(condition, thread, eventBindings(event));
      if (verdict !== false) {
        const text = typeof verdict === 'string' ? verdict : stopText(event, o.stepEvents);
        return { reason: 'exception', thread, text, hitBreakpointIds: [], event, filter, others: [] };
      }
    }
    for (const bp of this.functions) {
      if (bp.name !== event.class) continue;
      const verdict = this.hit(bp, thread, eventBindings(event), o.forward);
      if (verdict === false) continue;
      const text = typeof verdict === 'string' ? verdict : stopText(event, o.stepEvents);
      return {
        reason: 'function breakpoint',
        thread,
        text,
        hitBreakpointIds: [bp.id],
        event,
        filter,
        others: [],
      };
    }
    return null;
  }

  private checkStatement(o: CheckOptions): StopDecision | null {
    const next = this.engine.interpreter.peekNext();
    if (next === null) return null;
    const hitIds: number[] = [];
    let text: string | null = null;
    for (const bp of this.lines) {
      if (bp.line !== next.line) continue;
      const verdict = this.hit(bp, next.thread, undefined, o.forward);
      if (verdict === false) continue;
      if (bp.logMessage !== null && typeof verdict !== 'string') {
        if (o.forward) o.log(this.interpolate(bp.logMessage, next.thread));
        continue;
      }
      hitIds.push(bp.id);
      if (typeof verdict === 'string') text ??= verdict;
    }
    const names = this.functions.length === 0 ? [] : this.statementNamesAt(next.line);
    let reason: StopDecision['reason'] = 'breakpoint';
    for (const bp of this.functions) {
      if (!names.includes(bp.name)) continue;
      const verdict = this.hit(bp, next.thread, undefined, o.forward);
      if (verdict === false) continue;
      if (hitIds.length === 0) reason = 'function breakpoint';
      hitIds.push(bp.id);
      if (typeof verdict === 'string') text ??= verdict;
    }
    if (hitIds.length === 0) return null;
    return {
      reason,
      thread: next.thread,
      text: text ?? (reason === 'breakpoint' ? `breakpoint at line ${next.line}` : names.join(' ')),
      hitBreakpointIds: hitIds,
      event: null,
      filter: null,
      others: [],
    };
  }

  private statementNamesAt(line: number): string[] {
    let names = this.namesOfLine.get(line);
    if (names === undefined) {
      names = statementNames(this.sourceLines[line - 1] ?? '');
      this.namesOfLine.set(line, names);
    }
    return names;
  }

  /** true: stop; false: go on; a string: stop and show this condition error (§6.1). */
  private hit(
    bp: Conditional,
    thread: number,
    bindings: ReadonlyMap<string, bigint> | undefined,
    forward: boolean,
  ): boolean | string {
    const verdict = this.evaluateCondition(bp.condition, thread, bindings);
    if (verdict !== true) return verdict;
    if (bp.hitCondition === null) return true;
    if (!forward) return bp.hitCondition(bp.hits);
    bp.hits++;
    return bp.hitCondition(bp.hits);
  }

  private evaluateCondition(
    condition: string | null,
    thread: number,
    bindings: ReadonlyMap<string, bigint> | undefined,
  ): boolean | string {
    if (condition === null) return true;
    try {
      return this.engine.interpreter.evaluate(condition, thread, 0, bindings) !== 0n;
    } catch (e) {
      return `condition '${condition}' failed: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  /** `{expr}` in a logpoint message is evaluated in the thread's innermost frame. */
  private interpolate(message: string, thread: number): string {
    return message.replace(/\{([^{}]+)\}/g, (_, expr: string) => {
      try {
        return formatValue(this.engine.interpreter.evaluate(expr, thread, 0));
      } catch (e) {
        return `<${e instanceof Error ? e.message : String(e)}>`;
      }
    });
  }

  private threadOf(event: EngineEvent): number {
    const t = this.engine.interpreter
      .threads()
      .find((x) => x.domain === event.domain && x.index === event.vcpu);
    return t?.id ?? 0;
  }

  private checkConditional(condition: string | undefined, hitCondition: string | undefined): string | null {
    if (condition?.trim()) {
      const { diagnostics } = parseExpression(condition, this.engine.program);
      if (diagnostics.length > 0) return `condition: ${diagnostics[0].message}`;
    }
    if (hitCondition?.trim() && parseHitCondition(hitCondition) === null)
      return `hit condition '${hitCondition}' is not N, >= N, > N, == N, < N, <= N or % N`;
    return null;
  }

  private conditional(condition: string | undefined, hitCondition: string | undefined): Conditional {
    return {
      condition: condition?.trim() ? condition : null,
      hitCondition: hitCondition?.trim() ? parseHitCondition(hitCondition) : null,
      hits: 0,
    };
  }
}

function isMmuextOp(name: string): boolean {
  return (MMUEXT_OPS as readonly string[]).includes(name);
}
