/**
 * Bodies → linear instruction arrays with jumps, so that a vCPU's whole state is a stack of frames
 * `{body, pc, vars}`: cheap to snapshot and resumable after any step.
 *
 * Each instruction is one step (`guest-language.md` § Steps) except `JUMP`, which the interpreter
 * follows between steps. Layouts:
 *   if:    IF(→else) then… [JUMP(→end)] else… end
 *   for:   FOR_INIT(→exit) FOR_NEXT(→exit) body… JUMP(→FOR_NEXT) exit   (both on the `for` line)
 *   while: WHILE(→exit) body… JUMP(→WHILE) exit
 * `else` and `end` lines have no instruction: they are never steps.
 */
import type { Expr, ProcCall, Stmt } from './ast';
import { ExpressionCompiler } from './expressionCompiler';
import type { Eval, RegisterCapture } from './expressionCompiler';
import type { AccessSize, ControlRegister, MmuextOp, RegisterName } from './host';
import type { FrameLayout } from './frameScope';

export const Op = {
  JUMP: 0,
  LET: 1,
  IF: 2,
  FOR_INIT: 3,
  FOR_NEXT: 4,
  WHILE: 5,
  CALL: 6,
  RETURN: 7,
  PRINT: 8,
  EXPECT: 9,
  HALT: 10,
  MODE: 11,
  WRITE: 12,
  FETCH: 13,
  MOV: 14,
  INVLPG: 15,
  MMU_UPDATE: 16,
  MMUEXT: 17,
  UPDATE_VA_MAPPING: 18,
} as const;

const ZERO: Eval = () => 0n;

/** A name an `expect` failure report lists. */
export type ReportedName =
  { readonly name: string; readonly slot: number } | { readonly name: RegisterName; readonly register: true };

export interface ExpectInfo {
  readonly text: string;
  readonly message: string | null;
  readonly names: readonly ReportedName[];
  readonly capture: RegisterCapture;
}

/** One instruction. Every field exists on every instruction, so the interpreter's accesses stay monomorphic. */
export class Instr {
  target = -1;
  slot = -1;
  slot2 = -1;
  a: Eval = ZERO;
  b: Eval = ZERO;
  c: Eval = ZERO;
  evals: Eval[] = [];
  proc: CompiledBody | null = null;
  size: AccessSize = 8;
  register: ControlRegister = 0;
  word = '';
  foreign: string | null = null;
  print: (Eval | string)[] = [];
  expect: ExpectInfo | null = null;

  constructor(
    readonly op: number,
    readonly line: number,
    readonly column: number,
  ) {}

  get isStep(): boolean {
    return this.op !== Op.JUMP;
  }
}

export interface CompiledBody {
  /** A proc's name, or `vcpu D.N`. */
  readonly name: string;
  readonly kind: 'vcpu' | 'proc';
  readonly line: number;
  readonly layout: FrameLayout;
  readonly code: Instr[];
}

export function createBody(
  name: string,
  kind: 'vcpu' | 'proc',
  line: number,
  layout: FrameLayout,
): CompiledBody {
  return { name, kind, line, layout, code: [] };
}

/** Compiles statements into `body.code`; `procs` supplies call targets (all created before any is compiled). */
export class BodyCompiler {
  private readonly expressions = new ExpressionCompiler();

  constructor(
    private readonly body: CompiledBody,
    private readonly procs: ReadonlyMap<string, CompiledBody>,
  ) {}

  compile(statements: readonly Stmt[]): void {
    for (const s of statements) this.statement(s);
  }

  private emit(op: number, at: { line: number; column: number }): Instr {
    const instr = new Instr(op, at.line, at.column);
    this.body.code.push(instr);
    return instr;
  }

  private get here(): number {
    return this.body.code.length;
  }

  private expr(e: Expr | null): Eval {
    if (!e) throw new Error('internal: compiling a malformed expression');
    return this.expressions.compile(e);
  }

  private call(instr: Instr, call: ProcCall): void {
    const proc = this.procs.get(call.proc.name);
    if (!proc) throw new Error(`internal: unknown proc '${call.proc.name}'`);
    instr.proc = proc;
    instr.evals = call.args.map((a) => this.expr(a));
  }

  private statement(s: Stmt): void {
    switch (s.kind) {
      case 'let':
      case 'assign': {
        const instr = this.emit(s.isCall ? Op.CALL : Op.LET, s);
        instr.slot = s.slot ?? -1;
        if (s.isCall) this.call(instr, s.value as ProcCall);
        else instr.a = this.expr(s.value as Expr);
        return;
      }
      case 'call':
        return this.call(this.emit(Op.CALL, s), s.call);
      case 'if': {
        const test = this.emit(Op.IF, s);
        test.a = this.expr(s.test);
        this.compile(s.then);
        if (s.otherwise) {
          const skip = this.emit(Op.JUMP, s);
          test.target = this.here;
          this.compile(s.otherwise);
          skip.target = this.here;
        } else {
          test.target = this.here;
        }
        return;
      }
      case 'for': {
        const init = this.emit(Op.FOR_INIT, s);
        const next = this.emit(Op.FOR_NEXT, s);
        const nextIndex = this.here - 1;
        for (const instr of [init, next]) {
          instr.slot = s.slot ?? -1;
          instr.slot2 = s.counterSlot ?? -1;
        }
        init.a = this.expr(s.from);
        init.b = this.expr(s.to);
        this.compile(s.body);
        this.emit(Op.JUMP, s).target = nextIndex;
        init.target = next.target = this.here;
        return;
      }
      case 'while': {
        const test = this.emit(Op.WHILE, s);
        const testIndex = this.here - 1;
        test.a = this.expr(s.test);
        this.compile(s.body);
        this.emit(Op.JUMP, s).target = testIndex;
        test.target = this.here;
        return;
      }
      case 'return':
        this.emit(Op.RETURN, s).a = s.value ? this.expr(s.value) : ZERO;
        return;
      case 'print':
        this.emit(Op.PRINT, s).print = s.items.map((item) =>
          item.kind === 'string' ? item.text : this.expr(item.expr),
        );
        return;
      case 'expect':
        return this.expectation(s);
      case 'halt':
        this.emit(Op.HALT, s);
        return;
      case 'mode':
        this.emit(Op.MODE, s).word = s.mode;
        return;
      case 'write': {
        const instr = this.emit(Op.WRITE, s);
        instr.size = s.size;
        instr.a = this.expr(s.address);
        instr.b = this.expr(s.value);
        return;
      }
      case 'fetch':
        this.emit(Op.FETCH, s).a = this.expr(s.address);
        return;
      case 'invlpg':
        this.emit(Op.INVLPG, s).a = this.expr(s.address);
        return;
      case 'mov': {
        const instr = this.emit(Op.MOV, s);
        instr.register = s.register;
        instr.a = this.expr(s.value);
        return;
      }
      case 'mmu_update': {
        const instr = this.emit(Op.MMU_UPDATE, s);
        instr.evals = s.pairs.flatMap(([ptr, val]) => [this.expr(ptr), this.expr(val)]);
        instr.foreign = s.foreign?.name ?? null;
        return;
      }
      case 'mmuext': {
        const instr = this.emit(Op.MMUEXT, s);
        instr.word = s.op.name as MmuextOp;
        instr.a = s.arg ? this.expr(s.arg) : ZERO;
        return;
      }
      case 'update_va_mapping': {
        const instr = this.emit(Op.UPDATE_VA_MAPPING, s);
        instr.a = this.expr(s.va);
        instr.b = this.expr(s.value);
        instr.c = this.expr(s.flags);
        return;
      }
    }
  }

  /** An `expect` records the first value of each register it reads, for its failure report. */
  private expectation(s: Extract<Stmt, { kind: 'expect' }>): void {
    const names = reportedNames(s.test);
    const index = new Map<RegisterName, number>();
    names.forEach((n, i) => {
      if ('register' in n) index.set(n.name, i);
    });
    const capture: RegisterCapture = { index, values: names.map(() => undefined) };
    const instr = this.emit(Op.EXPECT, s);
    instr.a = new ExpressionCompiler(capture).compile(s.test);
    instr.expect = { text: s.test.text.trim(), message: s.message, names, capture };
  }
}

/** The variables and registers an expression names, distinct, in order of first appearance (call arguments included). */
export function reportedNames(e: Expr): ReportedName[] {
  const out: ReportedName[] = [];
  const seen = new Set<string>();
  const walk = (x: Expr): void => {
    switch (x.kind) {
      case 'name':
        if (seen.has(x.name)) return;
        if (x.ref?.kind === 'var') out.push({ name: x.name, slot: x.ref.slot });
        else if (x.ref?.kind === 'register') out.push({ name: x.ref.name, register: true });
        else return;
        seen.add(x.name);
        return;
      case 'group':
        return walk(x.inner);
      case 'unary':
        return walk(x.operand);
      case 'binary':
        walk(x.left);
        return walk(x.right);
      case 'call':
        for (const arg of x.args) walk(arg);
        return;
      case 'number':
        return;
    }
  };
  walk(e);
  return out;
}
