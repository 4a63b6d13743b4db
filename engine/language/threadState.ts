/**
 * A vCPU thread's state between steps: its frames, and their views and snapshots.
 *
 * Between steps every live frame's `pc` points at the statement that runs next: after each step
 * the thread *settles*, following jumps and running off the ends of bodies, all within that step.
 *
 * A frame is one `vcpu` body or one proc call: the body, the index of the statement that runs next
 * (`pc`), and the variables in slots (`undefined` until their `let` runs). A proc frame also
 * remembers where it was called from and which caller slot its return value goes to.
 */
import { Op } from './compiler';
import type { CompiledBody } from './compiler';
import type { ExecContext } from './expressionCompiler';
import { GuestRuntimeError } from './host';
import type { VcpuHost } from './host';

export interface Frame {
  readonly body: CompiledBody;
  pc: number;
  readonly vars: (bigint | undefined)[];
  /** The caller's slot for `let X = call …` / `X = call …`, or -1. */
  readonly retSlot: number;
  /** The line and column of the `call` (0 for a `vcpu` frame). */
  readonly callLine: number;
  readonly callColumn: number;
}

export type ThreadState = 'running' | 'finished' | 'halted' | 'error' | 'expect-failed';

export interface ThreadInfo {
  /** Index into `Program.vcpus`: the debugger's thread id. */
  readonly id: number;
  readonly domain: string;
  readonly index: number;
  /** `DOMAIN.vcpuN`, as the event log names a vCPU. */
  readonly name: string;
  /** The line of the `vcpu` block. */
  readonly line: number;
  readonly state: ThreadState;
}

export interface FrameView {
  /** The proc's name, or `vcpu D.N`. */
  readonly name: string;
  readonly kind: 'vcpu' | 'proc';
  /** Where this frame is: the next statement (innermost frame) or the `call` it is in. */
  readonly line: number;
  readonly column: number;
  /** Declared variables in slot order (parameters first); `value` undefined until the `let` has run. */
  readonly variables: readonly { readonly name: string; readonly value: bigint | undefined }[];
}

export interface InterpreterSnapshot {
  readonly cursor: number;
  readonly steps: number;
  readonly ended: boolean;
  readonly passed: number;
  readonly failed: number;
  readonly threads: readonly ThreadSnapshot[];
}

/** The most frames a vCPU may hold, its `vcpu` body included (`guest-language.md` § Names, frames and procs). */
export const MAX_CALL_DEPTH = 1024;

export function newFrame(body: CompiledBody, retSlot: number, callLine: number, callColumn: number): Frame {
  const vars: (bigint | undefined)[] = new Array(body.layout.slots.length).fill(undefined);
  return { body, pc: 0, vars, retSlot, callLine, callColumn };
}

function copyFrame(f: Frame): Frame {
  return { ...f, vars: f.vars.slice() };
}

export interface ThreadSnapshot {
  readonly state: ThreadState;
  readonly frames: readonly Frame[];
}

/** One `vcpu` block's execution: its frame stack and the context its expressions read. */
export class VcpuThread {
  state: ThreadState = 'running';
  frames: Frame[];
  readonly ctx: ExecContext;

  constructor(
    readonly id: number,
    readonly vcpu: VcpuHost,
    body: CompiledBody,
  ) {
    this.frames = [newFrame(body, -1, 0, 0)];
    this.ctx = { vars: this.frames[0].vars, vcpu, effects: true, bindings: null };
    this.settle();
  }

  top(): Frame {
    return this.frames[this.frames.length - 1];
  }

  /** Pushes a proc frame whose arguments are already in place; the caller's pc has moved past the call. */
  enter(frame: Frame): void {
    if (this.frames.length >= MAX_CALL_DEPTH) {
      throw new GuestRuntimeError(`call depth exceeded (more than ${MAX_CALL_DEPTH} frames)`);
    }
    this.frames.push(frame);
  }

  /** Pops the top frame and hands its value to the caller's `let X = call …`. */
  returnWith(value: bigint): void {
    const frame = this.frames.pop() as Frame;
    if (frame.retSlot >= 0) this.frames[this.frames.length - 1].vars[frame.retSlot] = value;
  }

  /**
   * Follows jumps and runs off the ends of bodies (a proc returns 0, the vCPU finishes), so that
   * the top frame's `pc` is the next step.
   */
  settle(): void {
    if (this.state !== 'running') return;
    while (true) {
      const f = this.frames[this.frames.length - 1];
      const code = f.body.code;
      if (f.pc >= code.length) {
        if (this.frames.length === 1) {
          this.state = 'finished';
          this.frames = [];
          return;
        }
        this.returnWith(0n);
        continue;
      }
      const instr = code[f.pc];
      if (instr.op !== Op.JUMP) return;
      f.pc = instr.target;
    }
  }

  save(): ThreadSnapshot {
    return { state: this.state, frames: this.frames.map(copyFrame) };
  }

  load(s: ThreadSnapshot): void {
    this.state = s.state;
    this.frames = s.frames.map(copyFrame);
  }

  /** Innermost first. A caller's position is the `call` its callee was entered from. */
  views(): FrameView[] {
    const frames = this.frames;
    const out: FrameView[] = [];
    for (let i = frames.length - 1; i >= 0; i--) {
      const f = frames[i];
      let line: number;
      let column: number;
      if (i === frames.length - 1) {
        const instr = f.body.code[Math.min(f.pc, f.body.code.length - 1)];
        [line, column] = instr ? [instr.line, instr.column] : [f.body.line, 1];
      } else {
        [line, column] = [frames[i + 1].callLine, frames[i + 1].callColumn];
      }
      const variables: { name: string; value: bigint | undefined }[] = [];
      f.body.layout.slots.forEach((name, slot) => {
        if (name !== null) variables.push({ name, value: f.vars[slot] });
      });
      out.push({ name: f.body.name, kind: f.body.kind, line, column, variables });
    }
    return out;
  }
}
