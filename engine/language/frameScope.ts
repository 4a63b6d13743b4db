/**
 * The names of one frame (a `vcpu` body or a proc), resolved in source order
 * (`guest-language.md` § Names, frames and procs).
 *
 * A frame's variables live in a slot array. Parameters take the first slots; every `let` or new
 * `for` variable takes the next one; each `for` also takes two hidden slots for its own counter and
 * bound, so that assigning the loop variable in the body does not change the iteration.
 */
import type { CallExpr, Expr, NameToken, ProcCall, PureBuiltin, Stmt } from './ast';
import { BUILTIN_CONSTANTS, PURE_BUILTINS, builtinArity, describeReserved, isRegister } from './builtins';
import { MMUEXT_OPS } from './host';
import { isKeyword } from './token';

/** The frame's slots: a name for each variable, null for the hidden `for` slots. */
export interface FrameLayout {
  readonly name: string;
  readonly kind: 'vcpu' | 'proc';
  readonly params: number;
  readonly slots: readonly (string | null)[];
}

/** The file-wide names a frame can refer to. */
export interface Declarations {
  readonly domains: ReadonlyMap<string, { readonly id: number }>;
  /** `params` null for a proc whose header did not parse. */
  readonly procs: ReadonlyMap<string, { readonly params: number | null }>;
  readonly consts: Map<string, { readonly value: bigint | null; readonly line: number }>;
}

type ErrorSink = (at: { line: number; column: number }, message: string) => void;

const MMUEXT_SET: ReadonlySet<string> = new Set(MMUEXT_OPS);

/** The error for declaring a reserved word as `what` (`a variable` …), or null when the name is free. */
export function reservedMessage(name: string, what: string): string | null {
  const reserved = isKeyword(name) ? 'a keyword' : describeReserved(name);
  return reserved ? `'${name}' is ${reserved} and cannot name ${what}` : null;
}

function arguments_(n: number): string {
  return n === 1 ? '1 argument' : `${n} arguments`;
}

/** Checks a built-in call's name and arity and sets its `fn`. `constOnly`: only the pure functions are allowed. */
export function resolveCall(e: CallExpr, scope: Declarations, error: ErrorSink, constOnly: boolean): void {
  const arity = builtinArity(e.name);
  if (!arity) {
    if (scope.procs.has(e.name)) error(e, `'${e.name}' is a proc; call it with a 'call' statement`);
    else error(e, `unknown function '${e.name}'`);
    return;
  }
  const [min, max] = arity;
  if (e.args.length < min || e.args.length > max) {
    const takes = min === max ? (min === 0 ? 'no arguments' : arguments_(min)) : `${min} or ${max} arguments`;
    error(e, `'${e.name}' takes ${takes}, got ${e.args.length}`);
    return;
  }
  if (constOnly && !PURE_BUILTINS.has(e.name)) {
    error(e, `a const cannot call '${e.name}' (only va, l1_index … l4_index, gpa and pte_addr)`);
    return;
  }
  if (e.name === 'domid') {
    const arg = e.args[0];
    const domain = arg.kind === 'name' ? scope.domains.get(arg.name) : undefined;
    if (arg.kind !== 'name') error(arg, 'domid takes a domain name');
    else if (!domain) error(arg, `unknown domain '${arg.name}'`);
    else e.fn = { kind: 'domid', id: domain.id };
    return;
  }
  e.fn = PURE_BUILTINS.has(e.name)
    ? { kind: 'pure', name: e.name as PureBuiltin }
    : { kind: 'host', name: e.name };
}

export class FrameScope {
  private readonly slots = new Map<string, number>();
  private readonly slotNames: (string | null)[] = [];
  /** First declaring line of each name of the frame, for "used before its declaration". */
  private readonly declaredOn = new Map<string, number>();

  constructor(
    private readonly scope: Declarations,
    private readonly error: ErrorSink,
    private readonly name: string,
    private readonly params: readonly NameToken[],
    private readonly isProc: boolean,
  ) {
    for (const param of params) this.declare(param, 'a parameter');
  }

  layout(): FrameLayout {
    return {
      name: this.name,
      kind: this.isProc ? 'proc' : 'vcpu',
      params: this.params.length,
      slots: this.slotNames,
    };
  }

  body(statements: readonly Stmt[]): void {
    this.collectDeclarations(statements);
    this.statements(statements);
  }

  private collectDeclarations(statements: readonly Stmt[]): void {
    for (const s of statements) {
      const target = s.kind === 'let' ? s.target : s.kind === 'for' ? s.variable : null;
      if (target && !this.declaredOn.has(target.name)) this.declaredOn.set(target.name, target.line);
      if (s.kind === 'if') {
        this.collectDeclarations(s.then);
        this.collectDeclarations(s.otherwise ?? []);
      } else if (s.kind === 'for' || s.kind === 'while') {
        this.collectDeclarations(s.body);
      }
    }
  }

  private allocate(name: string | null): number {
    const slot = this.slotNames.length;
    this.slotNames.push(name);
    if (name !== null) this.slots.set(name, slot);
    return slot;
  }

  private declare(target: NameToken, what: string): number | undefined {
    const reserved = reservedMessage(target.name, what);
    const constant = this.scope.consts.get(target.name);
    if (reserved) this.error(target, reserved);
    else if (constant)
      this.error(target, `'${target.name}' is a const (line ${constant.line}) and cannot name ${what}`);
    else if (this.slots.has(target.name))
      this.error(target, `'${target.name}' is already declared in this frame`);
    else return this.allocate(target.name);
    return undefined;
  }

  /** The slot an assignment writes, or undefined after reporting why there is none. */
  private assignable(target: NameToken): number | undefined {
    const slot = this.slots.get(target.name);
    if (slot !== undefined) return slot;
    const name = target.name;
    if (isRegister(name)) this.error(target, `cannot assign to the register '${name}'`);
    else if (BUILTIN_CONSTANTS.has(name))
      this.error(target, `cannot assign to the built-in constant '${name}'`);
    else if (this.scope.consts.has(name)) this.error(target, `cannot assign to the const '${name}'`);
    else this.unknownVariable(target);
    return undefined;
  }

  private unknownVariable(at: NameToken): void {
    const line = this.declaredOn.get(at.name);
    if (line !== undefined) this.error(at, `'${at.name}' is used before its declaration on line ${line}`);
    else if (this.scope.domains.has(at.name))
      this.error(at, `unknown variable '${at.name}' (a domain; its id is domid(${at.name}))`);
    else this.error(at, `unknown variable '${at.name}'`);
  }

  private statements(statements: readonly Stmt[]): void {
    for (const s of statements) this.statement(s);
  }

  private statement(s: Stmt): void {
    switch (s.kind) {
      case 'let':
      case 'assign':
        if (s.isCall) {
          if (s.value) this.procCall(s.value as ProcCall);
        } else if (s.value) {
          this.expr(s.value as Expr);
        }
        s.slot = s.kind === 'let' ? this.declare(s.target, 'a variable') : this.assignable(s.target);
        return;
      case 'for':
        this.optional(s.from);
        this.optional(s.to);
        if (s.variable) {
          const existing = this.slots.get(s.variable.name);
          s.slot = existing ?? this.declare(s.variable, 'a variable');
        }
        s.counterSlot = this.allocate(null);
        this.allocate(null);
        this.statements(s.body);
        return;
      case 'if':
        this.optional(s.test);
        this.statements(s.then);
        this.statements(s.otherwise ?? []);
        return;
      case 'while':
        this.optional(s.test);
        this.statements(s.body);
        return;
      case 'call':
        this.procCall(s.call);
        return;
      case 'return':
        if (!this.isProc) this.error(s, "'return' outside a proc");
        this.optional(s.value);
        return;
      case 'print':
        for (const item of s.items) if (item.kind === 'expr') this.expr(item.expr);
        return;
      case 'expect':
        return this.expr(s.test);
      case 'halt':
      case 'mode':
        return;
      case 'write':
        this.expr(s.address);
        return this.expr(s.value);
      case 'fetch':
      case 'invlpg':
        return this.expr(s.address);
      case 'mov':
        return this.expr(s.value);
      case 'mmu_update':
        for (const [ptr, val] of s.pairs) {
          this.expr(ptr);
          this.expr(val);
        }
        if (s.foreign && !this.scope.domains.has(s.foreign.name))
          this.error(s.foreign, `unknown domain '${s.foreign.name}'`);
        return;
      case 'mmuext':
        // ARG is optional for every op and defaults to 0 (xen-semantics.md §6); the flush ops ignore it.
        if (!MMUEXT_SET.has(s.op.name)) this.error(s.op, `unknown mmuext operation '${s.op.name}'`);
        this.optional(s.arg);
        return;
      case 'update_va_mapping':
        this.expr(s.va);
        this.expr(s.value);
        return this.expr(s.flags);
    }
  }

  private optional(e: Expr | null): void {
    if (e) this.expr(e);
  }

  private procCall(call: ProcCall): void {
    for (const arg of call.args) this.expr(arg);
    const proc = this.scope.procs.get(call.proc.name);
    if (!proc) this.error(call.proc, `unknown proc '${call.proc.name}'`);
    else if (proc.params !== null && proc.params !== call.args.length) {
      this.error(
        call.proc,
        `proc '${call.proc.name}' takes ${arguments_(proc.params)}, got ${call.args.length}`,
      );
    }
  }

  expr(e: Expr): void {
    switch (e.kind) {
      case 'number':
        return;
      case 'group':
        return this.expr(e.inner);
      case 'unary':
        return this.expr(e.operand);
      case 'binary':
        this.expr(e.left);
        return this.expr(e.right);
      case 'call':
        if (e.name !== 'domid') for (const arg of e.args) this.expr(arg);
        return resolveCall(e, this.scope, this.error, false);
      case 'name': {
        const builtin = BUILTIN_CONSTANTS.get(e.name);
        const slot = this.slots.get(e.name);
        const constant = this.scope.consts.get(e.name);
        if (builtin !== undefined) e.ref = { kind: 'value', value: builtin, constant: 'builtin' };
        else if (isRegister(e.name)) e.ref = { kind: 'register', name: e.name };
        else if (slot !== undefined) e.ref = { kind: 'var', slot };
        else if (constant) e.ref = { kind: 'value', value: constant.value ?? 0n, constant: 'const' };
        else this.unknownVariable(e);
        return;
      }
    }
  }
}
