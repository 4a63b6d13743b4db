/**
 * Expressions → closures. A resolved expression compiles once into a tree of small closures over an
 * `ExecContext`, so evaluating it walks no AST, allocates nothing for arithmetic and reads variables
 * from a slot array. Constant subtrees are folded (unless folding would raise an error, which must
 * happen at run time, at its line).
 *
 * Values are bigints in [0, 2^64): `+ - *` wrap, shifts by 64 or more give 0, comparisons are
 * unsigned, `&&`/`||` short-circuit and give 0 or 1 (`guest-language.md` § Values).
 */
import type { BinaryOp, Expr, FunctionRef } from './ast';
import { MAX_U64, READ_SIZES, gpa, pteAddr, tableIndex, va } from './builtins';
import { EvaluationError, GuestRuntimeError } from './host';
import type { HostBuiltin, RegisterName, VcpuHost } from './host';

const TWO_64 = 1n << 64n;

/** The state an expression reads. One per vCPU, reused for every step: `vars` is the current frame's. */
export interface ExecContext {
  vars: (bigint | undefined)[];
  vcpu: VcpuHost;
  /** false: the debugger's side-effect-free evaluation (`events.md` §6.3). */
  effects: boolean;
  /** Names bound on top of the frame by the debugger (exception-filter fields). */
  bindings: ReadonlyMap<string, bigint> | null;
}

export type Eval = (c: ExecContext) => bigint;

/** First values of registers read while an `expect` is evaluated, by the index `compile` gave each name. */
export interface RegisterCapture {
  readonly index: ReadonlyMap<RegisterName, number>;
  readonly values: (bigint | undefined)[];
}

interface Compiled {
  readonly run: Eval;
  /** Set when the expression is a constant. */
  readonly value?: bigint;
}

function constant(value: bigint): Compiled {
  return { run: () => value, value };
}

export function hex(value: bigint): string {
  return `0x${value.toString(16)}`;
}

function binaryRun(op: BinaryOp, l: Eval, r: Eval): Eval {
  switch (op) {
    case '+':
      return (c) => {
        const v = l(c) + r(c);
        return v > MAX_U64 ? v - TWO_64 : v;
      };
    case '-':
      return (c) => {
        const a = l(c);
        const b = r(c);
        return a >= b ? a - b : a - b + TWO_64;
      };
    case '*':
      return (c) => BigInt.asUintN(64, l(c) * r(c));
    case '/':
      return (c) => {
        const a = l(c);
        const b = r(c);
        if (b === 0n) throw new GuestRuntimeError('division by zero');
        return a / b;
      };
    case '%':
      return (c) => {
        const a = l(c);
        const b = r(c);
        if (b === 0n) throw new GuestRuntimeError('modulo by zero');
        return a % b;
      };
    case '<<':
      return (c) => {
        const a = l(c);
        const b = r(c);
        return b >= 64n ? 0n : BigInt.asUintN(64, a << b);
      };
    case '>>':
      return (c) => {
        const a = l(c);
        const b = r(c);
        return b >= 64n ? 0n : a >> b;
      };
    case '&':
      return (c) => l(c) & r(c);
    case '|':
      return (c) => l(c) | r(c);
    case '^':
      return (c) => l(c) ^ r(c);
    case '==':
      return (c) => (l(c) === r(c) ? 1n : 0n);
    case '!=':
      return (c) => (l(c) !== r(c) ? 1n : 0n);
    case '<':
      return (c) => (l(c) < r(c) ? 1n : 0n);
    case '<=':
      return (c) => (l(c) <= r(c) ? 1n : 0n);
    case '>':
      return (c) => (l(c) > r(c) ? 1n : 0n);
    case '>=':
      return (c) => (l(c) >= r(c) ? 1n : 0n);
    case '&&':
      return (c) => (l(c) !== 0n && r(c) !== 0n ? 1n : 0n);
    case '||':
      return (c) => (l(c) !== 0n || r(c) !== 0n ? 1n : 0n);
  }
}

/** `+`, `-`, `&` … with a constant right operand: one closure call fewer in the commonest loops. */
function binaryConstRight(op: BinaryOp, l: Eval, k: bigint): Eval | null {
  switch (op) {
    case '+':
      return (c) => {
        const v = l(c) + k;
        return v > MAX_U64 ? v - TWO_64 : v;
      };
    case '*':
      return (c) => BigInt.asUintN(64, l(c) * k);
    case '&':
      return (c) => l(c) & k;
    case '|':
      return (c) => l(c) | k;
    case '<':
      return (c) => (l(c) < k ? 1n : 0n);
    case '==':
      return (c) => (l(c) === k ? 1n : 0n);
    case '!=':
      return (c) => (l(c) !== k ? 1n : 0n);
    case '<<':
      return k >= 64n ? null : (c) => BigInt.asUintN(64, l(c) << k);
    default:
      return null;
  }
}

/** Evaluates a constant subtree now; null when it raises an error, which must then happen at run time. */
function fold(run: Eval): Compiled {
  try {
    return constant(run(null as unknown as ExecContext));
  } catch {
    return { run };
  }
}

function checkAccess(what: string, size: number, address: bigint): void {
  if (address > MAX_U64 - BigInt(size - 1)) {
    throw new GuestRuntimeError(
      `${what} of ${size} bytes at ${hex(address)} goes past address 0xffffffffffffffff`,
    );
  }
}

export class ExpressionCompiler {
  constructor(private readonly capture: RegisterCapture | null = null) {}

  compile(e: Expr): Eval {
    return this.expr(e).run;
  }

  private expr(e: Expr): Compiled {
    switch (e.kind) {
      case 'number':
        return constant(e.value);
      case 'group':
        return this.expr(e.inner);
      case 'name':
        return this.name(e.name, e);
      case 'unary': {
        const operand = this.expr(e.operand);
        const o = operand.run;
        const run: Eval =
          e.op === '-'
            ? (c) => BigInt.asUintN(64, -o(c))
            : e.op === '~'
              ? (c) => MAX_U64 ^ o(c)
              : (c) => (o(c) === 0n ? 1n : 0n);
        return operand.value !== undefined ? fold(run) : { run };
      }
      case 'binary': {
        const left = this.expr(e.left);
        const right = this.expr(e.right);
        if (left.value !== undefined && right.value !== undefined)
          return fold(binaryRun(e.op, left.run, right.run));
        if (right.value !== undefined) {
          const special = binaryConstRight(e.op, left.run, right.value);
          if (special) return { run: special };
        }
        return { run: binaryRun(e.op, left.run, right.run) };
      }
      case 'call':
        // domid's argument is a domain name, not an expression.
        if (e.fn?.kind === 'domid') return constant(BigInt(e.fn.id));
        return this.call(
          e.fn,
          e.name,
          e.args.map((a) => this.expr(a)),
        );
    }
  }

  private name(name: string, e: Extract<Expr, { kind: 'name' }>): Compiled {
    const ref = e.ref;
    if (!ref) throw new Error(`internal: unresolved name '${name}'`);
    switch (ref.kind) {
      case 'value':
        return constant(ref.value);
      case 'var': {
        const slot = ref.slot;
        return {
          run: (c) => {
            const v = c.vars[slot];
            if (v === undefined)
              throw new GuestRuntimeError(`variable '${name}' is read before its 'let' has run`);
            return v;
          },
        };
      }
      case 'register': {
        const reg = ref.name;
        const index = this.capture?.index.get(reg);
        if (this.capture && index !== undefined) {
          const values = this.capture.values;
          return {
            run: (c) => {
              const v = c.vcpu.register(reg);
              if (values[index] === undefined) values[index] = v;
              return v;
            },
          };
        }
        return { run: (c) => c.vcpu.register(reg) };
      }
      case 'binding':
        return {
          run: (c) => {
            const v = c.bindings?.get(name);
            if (v === undefined) throw new EvaluationError(`'${name}' is not bound here`);
            return v;
          },
        };
    }
  }

  private call(fn: FunctionRef | undefined, name: string, args: Compiled[]): Compiled {
    if (!fn) throw new Error(`internal: unresolved function '${name}'`);
    const runs = args.map((a) => a.run);
    const allConstant = args.every((a) => a.value !== undefined);
    const [a0, a1, a2, a3, a4] = runs;
    switch (fn.kind) {
      case 'domid':
        throw new Error('internal: domid is folded by expr()');
      case 'pure': {
        let run: Eval;
        switch (fn.name) {
          case 'va':
            run = a4
              ? (c) => va(a0(c), a1(c), a2(c), a3(c), a4(c))
              : (c) => va(a0(c), a1(c), a2(c), a3(c), 0n);
            break;
          case 'l1_index':
          case 'l2_index':
          case 'l3_index':
          case 'l4_index': {
            const level = Number(fn.name[1]) as 1 | 2 | 3 | 4;
            run = (c) => tableIndex(level, a0(c));
            break;
          }
          case 'gpa':
            run = (c) => gpa(a0(c));
            break;
          case 'pte_addr':
            run = (c) => pteAddr(a0(c), a1(c));
            break;
        }
        return allConstant ? fold(run) : { run };
      }
      case 'host':
        return { run: this.hostCall(fn.name as HostBuiltin, runs) };
    }
  }

  private hostCall(name: HostBuiltin, runs: Eval[]): Eval {
    const size = READ_SIZES.get(name);
    if (size !== undefined) {
      const address = runs[0];
      return (c) => {
        const a = address(c);
        checkAccess(name, size, a);
        return c.effects ? c.vcpu.read(size, a) : c.vcpu.callBuiltin(name, [a], false);
      };
    }
    if (name === 'alloc') {
      return (c) => {
        if (!c.effects)
          throw new EvaluationError('alloc() is not allowed in an expression the debugger evaluates');
        return c.vcpu.callBuiltin(name, [], true);
      };
    }
    return (c) => {
      const values: bigint[] = [];
      for (const run of runs) values.push(run(c));
      return c.vcpu.callBuiltin(name, values, c.effects);
    };
  }
}

/** The access check of the write statements (`guest-language.md` § Statements). */
export function checkWrite(size: number, address: bigint): void {
  checkAccess(`write${size * 8}`, size, address);
}
