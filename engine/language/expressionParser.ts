/**
 * The token cursor and the expression grammar, shared by the file parser and by the debugger's
 * expression parser (`parseExpression`).
 *
 * Binary operators, loosest first (`guest-language.md` § Values): `||`, `&&`, `|`, `^`, `&`,
 * `== !=`, `< <= > >=`, `<< >>`, `+ -`, `* / %`; all left-associative; then unary `- ~ !`.
 * Precedence climbing keeps that table in one place.
 */
import type { BinaryOp, Expr, UnaryOp } from './ast';
import { makeDiagnostic } from './diagnostic';
import type { Diagnostic } from './diagnostic';
import { describeToken } from './token';
import type { Token, TokenType } from './token';

const PRECEDENCE = new Map<TokenType, number>([
  ['||', 1],
  ['&&', 2],
  ['|', 3],
  ['^', 4],
  ['&', 5],
  ['==', 6],
  ['!=', 6],
  ['<', 7],
  ['<=', 7],
  ['>', 7],
  ['>=', 7],
  ['<<', 8],
  ['>>', 8],
  ['+', 9],
  ['-', 9],
  ['*', 10],
  ['/', 10],
  ['%', 10],
]);

/** Deeper nesting than this is surely a mistake, and would otherwise overflow the stack. */
const MAX_NESTING = 256;
/** Binary operators in one expression, for the same reason. */
const MAX_OPERATORS = 2000;

/** Thrown after the error has been recorded; caught where the parser recovers. */
export class ParseError extends Error {}

export class ExpressionParser {
  protected pos = 0;
  protected readonly diagnostics: Diagnostic[] = [];
  private depth = 0;
  private operators = 0;

  constructor(
    protected readonly source: string,
    protected readonly tokens: readonly Token[],
  ) {}

  // ---- cursor ----

  protected peek(ahead = 0): Token {
    return this.tokens[Math.min(this.pos + ahead, this.tokens.length - 1)];
  }

  protected previous(): Token {
    return this.tokens[this.pos - 1];
  }

  protected check(type: TokenType): boolean {
    return this.peek().type === type;
  }

  protected advance(): Token {
    const token = this.peek();
    if (token.type !== 'eof') this.pos++;
    return token;
  }

  protected match(type: TokenType): boolean {
    if (!this.check(type)) return false;
    this.advance();
    return true;
  }

  protected consume(type: TokenType, what: string): Token {
    if (this.check(type)) return this.advance();
    throw this.errorAt(this.peek(), `expected ${what}, found ${describeToken(this.peek())}`);
  }

  /** Records an error at a token. A scanner `error` token was reported already, so it is not reported again. */
  protected errorAt(token: Token, message: string): ParseError {
    if (token.type !== 'error') this.diagnostics.push(makeDiagnostic(token.line, token.column, message));
    return new ParseError(message);
  }

  /** Skips to the start of the next line: the parser recovers there. */
  protected synchronize(): void {
    while (!this.check('eof')) {
      if (this.advance().type === 'newline') return;
    }
  }

  protected endOfLine(): void {
    if (this.check('newline') || this.check('eof')) {
      this.advance();
      return;
    }
    throw this.errorAt(this.peek(), `expected end of line, found ${describeToken(this.peek())}`);
  }

  // ---- expressions ----

  expression(): Expr {
    if (this.depth === 0) this.operators = 0;
    return this.binary(1);
  }

  private textFrom(first: Token): string {
    return this.source.slice(first.start, this.previous().end);
  }

  private binary(minPrecedence: number): Expr {
    const first = this.peek();
    let left = this.unary();
    while (true) {
      const precedence = PRECEDENCE.get(this.peek().type);
      if (precedence === undefined || precedence < minPrecedence) return left;
      // A long chain makes a deep tree, and evaluating it recurses once per operator.
      if (++this.operators > MAX_OPERATORS) throw this.errorAt(this.peek(), 'expression too long');
      const op = this.advance().type as BinaryOp;
      const right = this.binary(precedence + 1);
      left = {
        kind: 'binary',
        op,
        left,
        right,
        line: first.line,
        column: first.column,
        text: this.textFrom(first),
      };
    }
  }

  private unary(): Expr {
    const first = this.peek();
    if (first.type === '-' || first.type === '~' || first.type === '!') {
      this.advance();
      const operand = this.nested(() => this.unary());
      return {
        kind: 'unary',
        op: first.type as UnaryOp,
        operand,
        line: first.line,
        column: first.column,
        text: this.textFrom(first),
      };
    }
    return this.primary();
  }

  private nested<T>(parse: () => T): T {
    if (this.depth >= MAX_NESTING) throw this.errorAt(this.peek(), 'expression nested too deeply');
    this.depth++;
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  private primary(): Expr {
    const token = this.peek();
    const at = { line: token.line, column: token.column };
    switch (token.type) {
      case 'number':
        this.advance();
        if (token.suffix) {
          throw this.errorAt(token, `a size suffix ('${token.suffix}') is allowed only in memory sizes`);
        }
        return { kind: 'number', value: token.value ?? 0n, ...at, text: token.lexeme };
      case 'name':
        this.advance();
        if (this.match('(')) {
          const args = this.arguments();
          return { kind: 'call', name: token.lexeme, args, ...at, text: this.textFrom(token) };
        }
        return { kind: 'name', name: token.lexeme, ...at, text: token.lexeme };
      case '(': {
        this.advance();
        const inner = this.nested(() => this.expression());
        this.consume(')', "')'");
        return { kind: 'group', inner, ...at, text: this.textFrom(token) };
      }
      case 'string':
        throw this.errorAt(token, "a string may only be a 'print' item or an 'expect' message");
      default:
        throw this.errorAt(token, `expected an expression, found ${describeToken(token)}`);
    }
  }

  /** After `(`: the comma-separated arguments and the `)`. */
  protected arguments(): Expr[] {
    const args: Expr[] = [];
    if (this.match(')')) return args;
    do {
      args.push(this.nested(() => this.expression()));
    } while (this.match(','));
    this.consume(')', "',' or ')'");
    return args;
  }
}
