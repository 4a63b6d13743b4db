/**
 * The syntax tree of a `.guest` file, as the parser builds it.
 *
 * Every node carries the 1-based line and column of its first character. Expression nodes also keep
 * their source text as written (an `expect` failure reports it). The resolver annotates name and
 * call nodes (`ref`, `fn`) and declaring statements (`slot`) in place, as jlox's resolver does with
 * its side table; the compiler reads those annotations.
 */
import type { PrivilegeMode, AccessSize, ControlRegister, RegisterName } from './host';

export interface Span {
  readonly line: number;
  readonly column: number;
}

interface ExprBase extends Span {
  /** The expression's source text exactly as written. */
  readonly text: string;
}

/** What a name in an expression stands for, decided by the resolver (or the debugger's evaluator). */
export type NameRef =
  | { readonly kind: 'value'; readonly value: bigint; readonly constant: 'builtin' | 'const' }
  | { readonly kind: 'var'; readonly slot: number }
  | { readonly kind: 'register'; readonly name: RegisterName }
  | { readonly kind: 'binding'; readonly name: string };

/** What a function call stands for. */
export type FunctionRef =
  | { readonly kind: 'pure'; readonly name: PureBuiltin }
  | { readonly kind: 'host'; readonly name: string }
  | { readonly kind: 'domid'; readonly id: number };

export type PureBuiltin = 'va' | 'l1_index' | 'l2_index' | 'l3_index' | 'l4_index' | 'gpa' | 'pte_addr';

export type UnaryOp = '-' | '~' | '!';
export type BinaryOp =
  | '||'
  | '&&'
  | '|'
  | '^'
  | '&'
  | '=='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | '<<'
  | '>>'
  | '+'
  | '-'
  | '*'
  | '/'
  | '%';

export type Expr =
  | (ExprBase & { readonly kind: 'number'; readonly value: bigint })
  | (ExprBase & { readonly kind: 'name'; readonly name: string; ref?: NameRef })
  | (ExprBase & { readonly kind: 'unary'; readonly op: UnaryOp; readonly operand: Expr })
  | (ExprBase & { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr })
  | (ExprBase & { readonly kind: 'group'; readonly inner: Expr })
  | (ExprBase & { readonly kind: 'call'; readonly name: string; readonly args: Expr[]; fn?: FunctionRef });

export type NameExpr = Extract<Expr, { kind: 'name' }>;
export type CallExpr = Extract<Expr, { kind: 'call' }>;

/** A name as written where a declaration or a reference to a declared thing stands. */
export interface NameToken extends Span {
  readonly name: string;
}

export interface ProcCall extends Span {
  readonly proc: NameToken;
  readonly args: Expr[];
}

interface StmtBase extends Span {
  /** Slot of the variable a `let`, assignment or `for` writes, set by the resolver. */
  slot?: number;
}

export type PrintItem =
  { readonly kind: 'expr'; readonly expr: Expr } | { readonly kind: 'string'; readonly text: string };

/** `null` where an expression did not parse: the error is reported, the statement still declares its name. */
export type MaybeExpr = Expr | null;

export type Stmt =
  | (StmtBase & {
      readonly kind: 'let';
      readonly target: NameToken;
      readonly value: MaybeExpr | ProcCall;
      readonly isCall: boolean;
    })
  | (StmtBase & {
      readonly kind: 'assign';
      readonly target: NameToken;
      readonly value: MaybeExpr | ProcCall;
      readonly isCall: boolean;
    })
  | (StmtBase & {
      readonly kind: 'if';
      readonly test: MaybeExpr;
      readonly then: Stmt[];
      readonly otherwise: Stmt[] | null;
    })
  | (StmtBase & {
      readonly kind: 'for';
      /** null when the header did not parse as far as the name. */
      readonly variable: NameToken | null;
      readonly from: MaybeExpr;
      readonly to: MaybeExpr;
      readonly body: Stmt[];
      /** Hidden slots of the loop's own counter and bound. */
      counterSlot?: number;
    })
  | (StmtBase & { readonly kind: 'while'; readonly test: MaybeExpr; readonly body: Stmt[] })
  | (StmtBase & { readonly kind: 'call'; readonly call: ProcCall })
  | (StmtBase & { readonly kind: 'return'; readonly value: Expr | null })
  | (StmtBase & { readonly kind: 'print'; readonly items: PrintItem[] })
  | (StmtBase & { readonly kind: 'expect'; readonly test: Expr; readonly message: string | null })
  | (StmtBase & { readonly kind: 'halt' })
  | (StmtBase & { readonly kind: 'mode'; readonly mode: PrivilegeMode })
  | (StmtBase & {
      readonly kind: 'write';
      readonly size: AccessSize;
      readonly address: Expr;
      readonly value: Expr;
    })
  | (StmtBase & { readonly kind: 'fetch'; readonly address: Expr })
  | (StmtBase & { readonly kind: 'mov'; readonly register: ControlRegister; readonly value: Expr })
  | (StmtBase & { readonly kind: 'invlpg'; readonly address: Expr })
  | (StmtBase & {
      readonly kind: 'mmu_update';
      readonly pairs: [Expr, Expr][];
      readonly foreign: NameToken | null;
    })
  | (StmtBase & { readonly kind: 'mmuext'; readonly op: NameToken; readonly arg: Expr | null })
  | (StmtBase & {
      readonly kind: 'update_va_mapping';
      readonly va: Expr;
      readonly value: Expr;
      readonly flags: Expr;
    });

export type StmtOf<K extends Stmt['kind']> = Extract<Stmt, { kind: K }>;

export interface SizeValue extends Span {
  /** Bytes; null when the SIZE was malformed (already reported). */
  readonly bytes: bigint | null;
}

export type Decl =
  | (Span & { readonly kind: 'machine'; readonly memory: SizeValue })
  | (Span & {
      readonly kind: 'domain';
      readonly name: NameToken;
      readonly domainKind: 'pv' | 'hvm';
      readonly memory: SizeValue;
      readonly vcpus: number;
      readonly privileged: boolean;
      readonly paging: 'shadow' | 'hap' | null;
      /** Set when the line did not parse past the name (already reported). */
      readonly broken?: boolean;
    })
  | (Span & { readonly kind: 'const'; readonly name: NameToken; readonly value: MaybeExpr })
  | (Span & {
      readonly kind: 'proc';
      readonly name: NameToken | null;
      readonly params: NameToken[];
      readonly body: Stmt[];
      /** false when the header did not parse: the body is then not resolved, to avoid follow-on errors. */
      readonly headerOk: boolean;
    })
  | (Span & {
      readonly kind: 'vcpu';
      /** null when the header did not parse. */
      readonly domain: NameToken | null;
      readonly index: number;
      readonly body: Stmt[];
    });

export type DeclOf<K extends Decl['kind']> = Extract<Decl, { kind: K }>;

export interface SourceFile {
  readonly declarations: Decl[];
}
