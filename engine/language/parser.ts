/**
 * The parser: tokens → `SourceFile` (`guest-language.md` § Top-level declarations, § Statements).
 *
 * One statement per line. On an error the parser reports it, skips to the next line
 * (`synchronize`) and goes on, so every line is checked and each mistake is reported once. Block
 * headers (`if`, `for`, `while`, `vcpu`, `proc`) open their block even when their expression is
 * malformed, so the block's `end` is not reported as stray; `let X = …` and `for X in …` with a
 * malformed expression still declare X. Declarations live in `declarationParser.ts`.
 */
import type { AccessSize, ControlRegister } from './host';
import type { Expr, MaybeExpr, NameToken, PrintItem, ProcCall, Stmt } from './ast';
import { ExpressionParser, ParseError } from './expressionParser';
import { describeToken } from './token';
import type { Token, TokenType } from './token';

const WRITE_SIZES: Partial<Record<TokenType, AccessSize>> = {
  write: 8,
  write8: 1,
  write16: 2,
  write32: 4,
  write64: 8,
};
const CONTROL_REGISTERS: Record<string, ControlRegister> = { cr0: 0, cr3: 3, cr4: 4 };

/** Keywords that begin a top-level block: met inside a block, they mean its `end` is missing. */
export const BLOCK_DECLARATIONS: ReadonlySet<TokenType> = new Set<TokenType>(['proc', 'vcpu']);
/** Keywords of one-line declarations, which belong at the top level. */
export const LINE_DECLARATIONS: ReadonlySet<TokenType> = new Set<TokenType>(['machine', 'domain', 'const']);

export class StatementParser extends ExpressionParser {
  /** A name being declared or referred to; a keyword there is reported as reserved. */
  protected nameToken(what: string): NameToken {
    const token = this.peek();
    if (token.type === 'name') {
      this.advance();
      return { name: token.lexeme, line: token.line, column: token.column };
    }
    if (
      /^[A-Za-z_]/.test(token.lexeme) &&
      token.type !== 'newline' &&
      token.type !== 'eof' &&
      token.type !== 'error'
    ) {
      throw this.errorAt(token, `'${token.lexeme}' is a reserved word and cannot be ${what}`);
    }
    throw this.errorAt(token, `expected ${what}, found ${describeToken(token)}`);
  }

  /** Reports an error without throwing, then skips to the next line. */
  protected recover(error: unknown): void {
    if (!(error instanceof ParseError)) throw error;
    this.synchronize();
  }

  /**
   * The statements of a block up to its `end` (consumed) or, when `allowElse`, an `else`
   * (consumed). Returns null as the terminator when the block is not closed.
   */
  protected block(opener: Token, allowElse: boolean): { body: Stmt[]; closedBy: 'end' | 'else' | null } {
    const body: Stmt[] = [];
    while (true) {
      const token = this.peek();
      if (token.type === 'newline') {
        this.advance();
      } else if (token.type === 'end') {
        this.advance();
        this.lineEndOrRecover();
        return { body, closedBy: 'end' };
      } else if (token.type === 'else' && allowElse) {
        this.advance();
        return { body, closedBy: 'else' };
      } else if (token.type === 'eof' || BLOCK_DECLARATIONS.has(token.type)) {
        this.errorAt(opener, `'${opener.lexeme}' is not closed by 'end'`);
        return { body, closedBy: null };
      } else if (LINE_DECLARATIONS.has(token.type)) {
        this.errorAt(token, `'${token.lexeme}' declarations belong at the top level, outside blocks`);
        this.synchronize();
      } else {
        const statement = this.statementOrRecover();
        if (statement) body.push(statement);
      }
    }
  }

  protected lineEndOrRecover(): void {
    try {
      this.endOfLine();
    } catch (error) {
      this.recover(error);
    }
  }

  private statementOrRecover(): Stmt | null {
    try {
      return this.statement();
    } catch (error) {
      this.recover(error);
      return null;
    }
  }

  /** An expression that ends its line, or null (reported, line skipped): used where a block or a name must survive. */
  private lineExpression(): MaybeExpr {
    try {
      const expr = this.expression();
      this.endOfLine();
      return expr;
    } catch (error) {
      this.recover(error);
      return null;
    }
  }

  protected statement(): Stmt {
    const token = this.peek();
    const at = { line: token.line, column: token.column };
    const size = WRITE_SIZES[token.type];
    if (size !== undefined) {
      this.advance();
      const address = this.expression();
      this.consume(',', "','");
      return this.done({ kind: 'write', size, address, value: this.expression(), ...at });
    }
    switch (token.type) {
      case 'let':
      case 'name':
        return this.letOrAssign();
      case 'if':
        return this.ifStatement(this.advance());
      case 'for':
        return this.forStatement(this.advance());
      case 'while': {
        this.advance();
        const test = this.lineExpression();
        return { kind: 'while', test, body: this.block(token, false).body, ...at };
      }
      case 'call':
        this.advance();
        return this.done({ kind: 'call', call: this.procCall(token), ...at });
      case 'return':
        this.advance();
        if (this.check('newline') || this.check('eof'))
          return this.done({ kind: 'return', value: null, ...at });
        return this.done({ kind: 'return', value: this.expression(), ...at });
      case 'print':
        this.advance();
        return this.done({ kind: 'print', items: this.printItems(), ...at });
      case 'expect': {
        this.advance();
        const test = this.expression();
        const message = this.match(',') ? (this.consume('string', 'a message string').text ?? '') : null;
        return this.done({ kind: 'expect', test, message, ...at });
      }
      case 'halt':
        this.advance();
        return this.done({ kind: 'halt', ...at });
      case 'mode': {
        this.advance();
        const word = this.peek();
        if (word.type !== 'name' || (word.lexeme !== 'kernel' && word.lexeme !== 'user')) {
          throw this.errorAt(word, `expected 'kernel' or 'user', found ${describeToken(word)}`);
        }
        this.advance();
        return this.done({ kind: 'mode', mode: word.lexeme, ...at });
      }
      case 'mov': {
        this.advance();
        const reg = this.peek();
        const register = reg.type === 'name' ? CONTROL_REGISTERS[reg.lexeme] : undefined;
        if (register === undefined)
          throw this.errorAt(reg, `expected cr0, cr3 or cr4, found ${describeToken(reg)}`);
        this.advance();
        this.consume(',', "','");
        return this.done({ kind: 'mov', register, value: this.expression(), ...at });
      }
      case 'invlpg':
      case 'fetch':
        this.advance();
        return this.done({ kind: token.type, address: this.expression(), ...at });
      case 'mmu_update':
        this.advance();
        return this.mmuUpdate(at);
      case 'mmuext': {
        this.advance();
        const op = this.nameToken('an mmuext operation');
        const arg = this.match(',') ? this.expression() : null;
        return this.done({ kind: 'mmuext', op, arg, ...at });
      }
      case 'update_va_mapping': {
        this.advance();
        const va = this.expression();
        this.consume(',', "','");
        const value = this.expression();
        this.consume(',', "','");
        return this.done({ kind: 'update_va_mapping', va, value, flags: this.expression(), ...at });
      }
      case 'else':
        throw this.errorAt(token, "'else' without a matching 'if'");
      case 'end':
        throw this.errorAt(token, "'end' without a block to close");
      default:
        throw this.errorAt(token, `expected a statement, found ${describeToken(token)}`);
    }
  }

  private done<T extends Stmt>(statement: T): T {
    this.endOfLine();
    return statement;
  }

  private letOrAssign(): Stmt {
    const first = this.peek();
    const at = { line: first.line, column: first.column };
    const isLet = this.match('let');
    if (!isLet && this.peek(1).type !== '=') {
      const hint = this.peek(1).type === '(' ? ` (to call a proc, write 'call ${first.lexeme}(…)')` : '';
      throw this.errorAt(first, `expected a statement, found ${describeToken(first)}${hint}`);
    }
    const target = this.nameToken('a variable name');
    this.consume('=', "'='");
    const kind = isLet ? 'let' : 'assign';
    if (this.check('call')) {
      const callToken = this.advance();
      try {
        return this.done({ kind, target, value: this.procCall(callToken), isCall: true, ...at });
      } catch (error) {
        this.recover(error);
        return { kind, target, value: null, isCall: true, ...at };
      }
    }
    // A malformed value still declares the name, so later lines do not report it as unknown.
    return { kind, target, value: this.lineExpression(), isCall: false, ...at };
  }

  private procCall(callToken: Token): ProcCall {
    const proc = this.nameToken('a proc name');
    this.consume('(', "'('");
    return { proc, args: this.arguments(), line: callToken.line, column: callToken.column };
  }

  private ifStatement(keyword: Token): Stmt {
    const test = this.lineExpression();
    const then = this.block(keyword, true);
    let otherwise: Stmt[] | null = null;
    if (then.closedBy === 'else') {
      otherwise = [];
      if (this.check('if')) {
        // `else if` opens a new `if` with its own `end`; the outer `if` still needs its own.
        otherwise.push(this.ifStatement(this.advance()));
      } else {
        this.lineEndOrRecover();
      }
      otherwise.push(...this.block(keyword, false).body);
    }
    return { kind: 'if', test, then: then.body, otherwise, line: keyword.line, column: keyword.column };
  }

  private forStatement(keyword: Token): Stmt {
    let variable: NameToken | null = null;
    let from: MaybeExpr = null;
    let to: MaybeExpr = null;
    try {
      variable = this.nameToken('a loop variable name');
      this.consume('in', "'in'");
      from = this.expression();
      this.consume('..', "'..'");
      to = this.expression();
      this.endOfLine();
    } catch (error) {
      this.recover(error);
      [from, to] = [null, null];
    }
    const body = this.block(keyword, false).body;
    return { kind: 'for', variable, from, to, body, line: keyword.line, column: keyword.column };
  }

  private printItems(): PrintItem[] {
    const items: PrintItem[] = [];
    do {
      const token = this.peek();
      if (token.type === 'string') {
        this.advance();
        items.push({ kind: 'string', text: token.text ?? '' });
      } else if (token.type === 'newline' || token.type === 'eof') {
        throw this.errorAt(token, 'expected an expression or a string to print, found end of line');
      } else {
        items.push({ kind: 'expr', expr: this.expression() });
      }
    } while (this.match(','));
    return items;
  }

  private isForeignClause(): boolean {
    return this.peek().type === 'name' && this.peek().lexeme === 'foreign' && this.peek(1).type === '=';
  }

  private mmuUpdate(at: { line: number; column: number }): Stmt {
    const pairs: [Expr, Expr][] = [];
    let foreign: NameToken | null = null;
    while (true) {
      const ptr = this.expression();
      this.consume(',', "','");
      pairs.push([ptr, this.expression()]);
      // `foreign=DOMAIN` may follow the last pair with or without a comma.
      const comma = this.match(',');
      if (this.isForeignClause()) {
        this.advance();
        this.advance();
        foreign = this.nameToken('a domain name');
        break;
      }
      if (!comma) break;
    }
    return this.done({ kind: 'mmu_update', pairs, foreign, ...at });
  }
}
