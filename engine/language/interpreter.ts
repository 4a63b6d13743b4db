/**
 * The interpreter: a resumable step machine over compiled bodies (`guest-language.md` § Steps).
 *
 * Each `vcpu` block is a thread; its state is a stack of frames `{body, pc, vars}`. `step()` runs
 * exactly one step of the next unfinished thread in round-robin order and then *settles* it: it
 * follows jumps and, when a body runs off its end, returns 0 from the proc (or finishes the vCPU)
 * — all within the step that ran the body's last line. So between steps every live frame's `pc`
 * points at the statement that runs next, which is what breakpoints, `peekNext` and the debugger's
 * stack show (`threadState.ts`). A snapshot is the threads' frame stacks, copied.
 *
 * The machine's state (memory, registers, TLBs) is the host's, and so are its snapshots.
 */
import { Op } from './compiler';
import type { CompiledBody, Instr } from './compiler';
import { DebuggerEvaluator } from './evaluator';
import { checkWrite, hex } from './expressionCompiler';
import { EvaluationError, GuestRuntimeError } from './host';
import type { MachineHost, MmuextOp, MmuUpdateRequest, PrivilegeMode } from './host';
import type { Program } from './program';
import { callChainOf, reportedValues } from './reports';
import type { ExpectFailure, RuntimeErrorReport } from './reports';
import { VcpuThread, newFrame } from './threadState';
import type { Frame, InterpreterSnapshot, ThreadInfo, FrameView } from './threadState';

export type StepKind = 'ran' | 'finished' | 'halted' | 'error' | 'expect-failed' | 'idle';

export interface StepOutcome {
  /** `idle`: the run had already ended and no step was taken. */
  readonly kind: StepKind;
  /** The step's number (1, 2, …), 0 when idle. */
  readonly step: number;
  readonly thread: number;
  readonly line: number;
  readonly column: number;
  readonly error: RuntimeErrorReport | null;
  readonly expectFailure: ExpectFailure | null;
  /** The run is over after this step: an `expect` failed, or no vCPU is left to run. */
  readonly runEnded: boolean;
}

export type PrintSink = (line: string) => void;

export class Interpreter {
  private readonly threadList: VcpuThread[];
  private cursor = 0;
  private steps = 0;
  private ended = false;
  private passed = 0;
  private failed = 0;
  private readonly evaluator: DebuggerEvaluator;

  constructor(
    readonly program: Program,
    private readonly host: MachineHost,
    private readonly print: PrintSink,
  ) {
    this.evaluator = new DebuggerEvaluator(program);
    this.threadList = program.vcpus.map(
      (block, id) => new VcpuThread(id, host.vcpu(block.domain, block.index), program.compiled.vcpus[id]),
    );
  }

  get stepCount(): number {
    return this.steps;
  }

  /** Every thread finished, halted or stopped, or an `expect` failed. */
  get finished(): boolean {
    return this.ended || this.threadList.every((t) => t.state !== 'running');
  }

  get expectations(): { passed: number; failed: number } {
    return { passed: this.passed, failed: this.failed };
  }

  threads(): ThreadInfo[] {
    return this.threadList.map((t) => {
      const block = this.program.vcpus[t.id];
      return {
        id: t.id,
        domain: block.domain,
        index: block.index,
        name: `${block.domain}.vcpu${block.index}`,
        line: block.line,
        state: t.state,
      };
    });
  }

  private nextThread(): VcpuThread | null {
    if (this.ended) return null;
    const n = this.threadList.length;
    for (let k = 0; k < n; k++) {
      const t = this.threadList[(this.cursor + k) % n];
      if (t.state === 'running') return t;
    }
    return null;
  }

  /** The statement the next step would run: for breakpoints and the step-limit message. */
  peekNext(): { thread: number; line: number; column: number } | null {
    const t = this.nextThread();
    if (!t) return null;
    const f = t.frames[t.frames.length - 1];
    const instr = f.body.code[f.pc];
    return { thread: t.id, line: instr.line, column: instr.column };
  }

  step(): StepOutcome {
    const t = this.nextThread();
    if (!t)
      return {
        kind: 'idle',
        step: 0,
        thread: -1,
        line: 0,
        column: 0,
        error: null,
        expectFailure: null,
        runEnded: true,
      };
    this.cursor = (t.id + 1) % this.threadList.length;
    const step = ++this.steps;
    const f = t.frames[t.frames.length - 1];
    const instr = f.body.code[f.pc];
    this.host.beginStep(t.vcpu, { step, line: instr.line });
    let error: RuntimeErrorReport | null = null;
    let failure: ExpectFailure | null = null;
    try {
      failure = this.execute(t, f, instr, step);
      if (!failure) t.settle();
    } catch (e) {
      if (!(e instanceof GuestRuntimeError)) throw e;
      error = this.stop(t, e, instr, step);
    }
    const kind: StepKind = error
      ? 'error'
      : failure
        ? 'expect-failed'
        : t.state === 'running'
          ? 'ran'
          : (t.state as 'finished' | 'halted');
    return {
      kind,
      step,
      thread: t.id,
      line: instr.line,
      column: instr.column,
      error,
      expectFailure: failure,
      runEnded: this.finished,
    };
  }

  private stop(t: VcpuThread, e: GuestRuntimeError, instr: Instr, step: number): RuntimeErrorReport {
    const stopped = [t.id];
    t.state = 'error';
    if (e.scope === 'domain') {
      for (const other of this.threadList) {
        if (other !== t && other.state === 'running' && other.vcpu.domainName === t.vcpu.domainName) {
          other.state = 'error';
          stopped.push(other.id);
        }
      }
    }
    return {
      thread: t.id,
      step,
      line: instr.line,
      column: instr.column,
      message: e.message,
      scope: e.scope,
      stopped,
    };
  }

  /** Runs one instruction; returns the failure of an `expect` that fails. */
  private execute(t: VcpuThread, f: Frame, instr: Instr, step: number): ExpectFailure | null {
    const c = t.ctx;
    const vars = f.vars;
    c.vars = vars;
    const vcpu = t.vcpu;
    switch (instr.op) {
      case Op.LET:
        vars[instr.slot] = instr.a(c);
        f.pc++;
        break;
      case Op.IF:
      case Op.WHILE:
        f.pc = instr.a(c) !== 0n ? f.pc + 1 : instr.target;
        break;
      case Op.FOR_INIT: {
        const from = instr.a(c);
        const to = instr.b(c);
        vars[instr.slot2] = from;
        vars[instr.slot2 + 1] = to;
        if (from < to) {
          vars[instr.slot] = from;
          f.pc += 2;
        } else f.pc = instr.target;
        break;
      }
      case Op.FOR_NEXT: {
        // The loop's own counter: assigning the variable in the body does not change the next value.
        const next = (vars[instr.slot2] as bigint) + 1n;
        vars[instr.slot2] = next;
        if (next < (vars[instr.slot2 + 1] as bigint)) {
          vars[instr.slot] = next;
          f.pc++;
        } else f.pc = instr.target;
        break;
      }
      case Op.CALL:
        this.call(t, f, instr);
        break;
      case Op.RETURN:
        t.returnWith(instr.a(c));
        break;
      case Op.PRINT:
        this.print(instr.print.map((item) => (typeof item === 'string' ? item : hex(item(c)))).join(' '));
        f.pc++;
        break;
      case Op.EXPECT:
        return this.expect(t, f, instr, step);
      case Op.HALT:
        vcpu.halt();
        t.state = 'halted';
        break;
      case Op.MODE:
        vcpu.setMode(instr.word as PrivilegeMode);
        f.pc++;
        break;
      case Op.WRITE: {
        const address = instr.a(c);
        const value = instr.b(c);
        checkWrite(instr.size, address);
        vcpu.write(instr.size, address, value);
        f.pc++;
        break;
      }
      case Op.FETCH:
        vcpu.fetch(instr.a(c));
        f.pc++;
        break;
      case Op.INVLPG:
        vcpu.invlpg(instr.a(c));
        f.pc++;
        break;
      case Op.MOV:
        vcpu.movCr(instr.register, instr.a(c));
        f.pc++;
        break;
      case Op.MMU_UPDATE: {
        const requests: MmuUpdateRequest[] = [];
        const evals = instr.evals;
        for (let i = 0; i < evals.length; i += 2) {
          const ptr = evals[i](c);
          requests.push({ ptr, val: evals[i + 1](c) });
        }
        vcpu.mmuUpdate(requests, instr.foreign);
        f.pc++;
        break;
      }
      case Op.MMUEXT:
        vcpu.mmuext(instr.word as MmuextOp, instr.a(c));
        f.pc++;
        break;
      case Op.UPDATE_VA_MAPPING: {
        const va = instr.a(c);
        const val = instr.b(c);
        vcpu.updateVaMapping(va, val, instr.c(c));
        f.pc++;
        break;
      }
      default:
        throw new Error(`internal: instruction ${instr.op} is not a step`);
    }
    return null;
  }

  private call(t: VcpuThread, f: Frame, instr: Instr): void {
    const frame = newFrame(instr.proc as CompiledBody, instr.slot, instr.line, instr.column);
    const args = instr.evals;
    for (let i = 0; i < args.length; i++) frame.vars[i] = args[i](t.ctx);
    t.enter(frame);
    f.pc++;
  }

  private expect(t: VcpuThread, f: Frame, instr: Instr, step: number): ExpectFailure | null {
    const info = instr.expect;
    if (!info) throw new Error('internal: expect without its report data');
    info.capture.values.fill(undefined);
    if (instr.a(t.ctx) !== 0n) {
      this.passed++;
      f.pc++;
      return null;
    }
    this.failed++;
    const values = reportedValues(info, f.vars, t.vcpu);
    const callChain = callChainOf(t.frames);
    this.host.logExpectFailed(info.text, info.message, values);
    t.state = 'expect-failed';
    this.ended = true;
    return {
      thread: t.id,
      step,
      line: instr.line,
      column: instr.column,
      text: info.text,
      message: info.message,
      values,
      callChain,
    };
  }

  /** The thread's frames, innermost first; empty for a finished thread. */
  frames(thread: number): FrameView[] {
    return this.threadOf(thread).views();
  }

  /** How many frames the thread has (0 when finished): `frames(thread).length` without building them. */
  frameDepth(thread: number): number {
    return this.threadOf(thread).frames.length;
  }

  private threadOf(thread: number): VcpuThread {
    const t = this.threadList[thread];
    if (!t) throw new RangeError(`no thread ${thread}`);
    return t;
  }

  snapshot(): InterpreterSnapshot {
    return {
      cursor: this.cursor,
      steps: this.steps,
      ended: this.ended,
      passed: this.passed,
      failed: this.failed,
      threads: this.threadList.map((t) => t.save()),
    };
  }

  restore(s: InterpreterSnapshot): void {
    this.cursor = s.cursor;
    this.steps = s.steps;
    this.ended = s.ended;
    this.passed = s.passed;
    this.failed = s.failed;
    s.threads.forEach((saved, i) => this.threadList[i].load(saved));
  }

  /**
   * Evaluates a debugger expression in a frame (0 = innermost) of a thread, without side effects
   * (`events.md` §6.3). `bindings` shadow variables and registers. Throws `EvaluationError`.
   */
  evaluate(source: string, thread: number, frameIndex = 0, bindings?: ReadonlyMap<string, bigint>): bigint {
    const t = this.threadOf(thread);
    const frame = t.frames.length > 0 ? t.frames[t.frames.length - 1 - frameIndex] : null;
    if (t.frames.length > 0 && !frame)
      throw new EvaluationError(`thread ${thread} has no frame ${frameIndex}`);
    return this.evaluator.evaluate(source, frame ?? null, t.vcpu, bindings ?? null);
  }
}
