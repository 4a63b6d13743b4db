/**
 * A vCPU thread's state between steps: its frames, and their views and snapshots.
 *
 * A frame is one `vcpu` body or one proc call: the body, the index of the statement that runs next
 * (`pc`), and the variables in slots (`undefined` until their `let` runs). A proc frame also
 * remembers where it was called from and which caller slot its return value goes to.
 */
import type { CompiledBody } from './compiler';

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
  readonly threads: readonly { readonly state: ThreadState; readonly frames: readonly Frame[] }[];
}

export class FrameStack {
  make(body: CompiledBody, retSlot: number, callLine: number, callColumn: number): Frame {
    const vars: (bigint | undefined)[] = new Array(body.layout.slots.length).fill(undefined);
    return { body, pc: 0, vars, retSlot, callLine, callColumn };
  }

  static copy(f: Frame): Frame {
    return { ...f, vars: f.vars.slice() };
  }

  /** Innermost first. A caller's position is the `call` its callee was entered from. */
  views(frames: readonly Frame[]): FrameView[] {
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
