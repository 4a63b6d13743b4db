/**
 * Expressions the debugger evaluates (`events.md` §6.3): breakpoint and exception conditions, hit
 * conditions, logpoints, watch, hover and the console.
 *
 * They are parsed and resolved against one frame of a stopped vCPU: bindings (an event's fields)
 * shadow variables and registers, then come built-in constants, registers, the frame's variables
 * and the consts. They compile with the same `ExpressionCompiler` as guest code and run with
 * `effects` false, so the host's built-ins peek instead of acting; `alloc()` and proc calls are
 * errors, and statements do not parse as expressions.
 */
import type { Expr } from './ast';
import { BUILTIN_CONSTANTS, isBuiltinFunction, isRegister } from './builtins';
import type { CompiledBody } from './compiler';
import { makeDiagnostic } from './diagnostic';
import type { Diagnostic } from './diagnostic';
import { ExpressionParser, ParseError } from './expressionParser';
import { ExpressionCompiler } from './expressionCompiler';
import type { Eval } from './expressionCompiler';
import { resolveCall } from './frameScope';
import type { Declarations } from './frameScope';
import { EvaluationError, GuestRuntimeError } from './host';
import type { VcpuHost } from './host';
import type { Program } from './program';
import type { Frame } from './threadState';
import { scan } from './scanner';
import { describeToken } from './token';

class SingleExpressionParser extends ExpressionParser {
  parseAll(): { expr: Expr | null; diagnostics: Diagnostic[] } {
    try {
      const expr = this.expression();
      while (this.check('newline')) this.advance();
      if (!this.check('eof')) {
        throw this.errorAt(
          this.peek(),
          `expected the end of the expression, found ${describeToken(this.peek())}`,
        );
      }
      return { expr, diagnostics: this.diagnostics };
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      return { expr: null, diagnostics: this.diagnostics };
    }
  }
}

function declarationsOf(program: Program | null): Declarations {
  const consts = new Map<string, { value: bigint | null; line: number }>();
  for (const [name, value] of program?.consts ?? []) consts.set(name, { value, line: 0 });
  return {
    domains: new Map((program?.domains ?? []).map((d) => [d.name, { id: d.id }])),
    procs: new Map((program?.procs ?? []).map((p) => [p.name, { params: p.params.length }])),
    consts,
  };
}

/**
 * Parses one expression (a breakpoint condition, a watch …) and checks what can be checked without
 * a frame: syntax, and with a program its function names and argument counts. Positions are in the
 * expression's text (line 1).
 */
export function parseExpression(
  source: string,
  program: Program | null = null,
): { expr: Expr | null; diagnostics: Diagnostic[] } {
  const scanned = scan(source);
  const parsed = new SingleExpressionParser(source, scanned.tokens).parseAll();
  const diagnostics = [...scanned.diagnostics, ...parsed.diagnostics];
  if (parsed.expr && diagnostics.length === 0 && program) {
    const scope = declarationsOf(program);
    const error = (at: { line: number; column: number }, message: string) =>
      diagnostics.push(makeDiagnostic(at.line, at.column, message));
    const walk = (e: Expr): void => {
      if (e.kind === 'call') {
        if (e.name !== 'domid') e.args.forEach(walk);
        if (!isBuiltinFunction(e.name) && scope.procs.has(e.name))
          error(e, `'${e.name}' is a proc; an expression cannot call a proc`);
        else resolveCall(e, scope, error, false);
      } else if (e.kind === 'binary') {
        walk(e.left);
        walk(e.right);
      } else if (e.kind === 'unary') walk(e.operand);
      else if (e.kind === 'group') walk(e.inner);
    };
    walk(parsed.expr);
  }
  return { expr: diagnostics.length === 0 ? parsed.expr : null, diagnostics };
}

/**
 * Compiles a debugger expression for one body's frames. Throws `EvaluationError` for a parse or
 * name error. `bound` lists the names the caller will bind.
 */
export function compileDebuggerExpression(
  source: string,
  program: Program,
  body: CompiledBody | null,
  bound: ReadonlySet<string>,
): Eval {
  const { expr, diagnostics } = parseExpression(source, program);
  if (!expr) throw new EvaluationError(diagnostics[0]?.message ?? 'not an expression');
  const slots = new Map<string, number>();
  body?.layout.slots.forEach((name, slot) => {
    if (name !== null) slots.set(name, slot);
  });
  const bind = (e: Expr): void => {
    switch (e.kind) {
      case 'name': {
        const slot = slots.get(e.name);
        const builtin = BUILTIN_CONSTANTS.get(e.name);
        const constant = program.consts.get(e.name);
        if (bound.has(e.name)) e.ref = { kind: 'binding', name: e.name };
        else if (builtin !== undefined) e.ref = { kind: 'value', value: builtin, constant: 'builtin' };
        else if (isRegister(e.name)) e.ref = { kind: 'register', name: e.name };
        else if (slot !== undefined) e.ref = { kind: 'var', slot };
        else if (constant !== undefined) e.ref = { kind: 'value', value: constant, constant: 'const' };
        else throw new EvaluationError(`unknown name '${e.name}'`);
        return;
      }
      case 'call':
        if (e.name !== 'domid') e.args.forEach(bind);
        return;
      case 'binary':
        bind(e.left);
        return bind(e.right);
      case 'unary':
        return bind(e.operand);
      case 'group':
        return bind(e.inner);
      case 'number':
        return;
    }
  };
  bind(expr);
  return new ExpressionCompiler().compile(expr);
}

/** Compiles debugger expressions once per (body, bound names, text) and runs them without effects. */
export class DebuggerEvaluator {
  private readonly cache = new Map<string, Eval>();

  constructor(private readonly program: Program) {}

  evaluate(
    source: string,
    frame: Frame | null,
    vcpu: VcpuHost,
    bindings: ReadonlyMap<string, bigint> | null,
  ): bigint {
    const body = frame?.body ?? null;
    const bound = bindings ? [...bindings.keys()].sort() : [];
    const key = `${body?.name ?? ''}\u0000${bound.join(',')}\u0000${source}`;
    let run = this.cache.get(key);
    if (!run) {
      run = compileDebuggerExpression(source, this.program, body, new Set(bound));
      // Conditions are few; a bound keeps a console session from growing the cache for ever.
      if (this.cache.size > 1000) this.cache.clear();
      this.cache.set(key, run);
    }
    try {
      return run({ vars: frame?.vars ?? [], vcpu, effects: false, bindings });
    } catch (e) {
      if (e instanceof GuestRuntimeError) throw new EvaluationError(e.message);
      throw e;
    }
  }
}
