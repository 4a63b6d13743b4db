/**
 * The scanner turns a `.guest` source into tokens (`guest-language.md` § Lexical).
 *
 * A lexical error is reported once, here, and leaves an `error` token behind so that the parser
 * skips the rest of that line without reporting it again. Columns count characters, not UTF-16
 * code units: a character outside the BMP (a surrogate pair) is one column.
 */
import { makeDiagnostic } from './diagnostic';
import type { Diagnostic } from './diagnostic';
import { isKeyword } from './token';
import type { SizeSuffix, Token, TokenType } from './token';

const MAX_U64 = (1n << 64n) - 1n;

/** Two-character operators first, so `<=` is not scanned as `<` then `=`. */
const OPERATORS_2 = new Set(['..', '||', '&&', '==', '!=', '<=', '>=', '<<', '>>']);
const OPERATORS_1 = new Set([
  '(',
  ')',
  ',',
  '.',
  '=',
  '|',
  '^',
  '&',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '%',
  '~',
  '!',
]);

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function isNameStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}

function isNameChar(c: string): boolean {
  return isNameStart(c) || isDigit(c);
}

export interface ScanResult {
  readonly tokens: Token[];
  readonly diagnostics: Diagnostic[];
}

export class Scanner {
  private readonly tokens: Token[] = [];
  private readonly diagnostics: Diagnostic[] = [];
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  /** Low surrogates met on this line so far: subtracted from offsets to count characters. */
  private lineSurrogates = 0;
  /** The end column of the last token on this line, or 0 when the line has none yet. */
  private lastEndColumn = 0;

  constructor(private readonly source: string) {}

  scan(): ScanResult {
    while (this.pos < this.source.length) {
      this.scanToken();
    }
    this.endLine();
    const column = this.column(this.pos);
    this.tokens.push({
      type: 'eof',
      lexeme: '',
      line: this.line,
      column,
      endColumn: column,
      start: this.pos,
      end: this.pos,
    });
    return { tokens: this.tokens, diagnostics: this.diagnostics };
  }

  private column(offset: number): number {
    return offset - this.lineStart - this.lineSurrogates + 1;
  }

  private advance(): string {
    const c = this.source[this.pos++];
    const code = c.charCodeAt(0);
    if (code >= 0xdc00 && code <= 0xdfff) this.lineSurrogates++;
    return c;
  }

  private peek(ahead = 0): string {
    return this.source[this.pos + ahead] ?? '\0';
  }

  private scanToken(): void {
    const start = this.pos;
    const c = this.advance();
    if (c === '\n') {
      this.endLine();
      this.line++;
      this.lineStart = this.pos;
      this.lineSurrogates = 0;
      return;
    }
    if (c === ' ' || c === '\t' || c === '\r') return;
    if (c === ';') {
      while (this.pos < this.source.length && this.peek() !== '\n') this.advance();
      return;
    }
    if (isDigit(c)) return this.number(start);
    if (isNameStart(c)) return this.name(start);
    if (c === '"') return this.string(start);
    const two = c + this.peek();
    if (OPERATORS_2.has(two)) {
      this.advance();
      return this.add(two as TokenType, start);
    }
    if (OPERATORS_1.has(c)) return this.add(c as TokenType, start);
    this.fail(start, `unexpected character '${c}'`);
  }

  private endLine(): void {
    if (this.lastEndColumn === 0) return;
    const col = this.lastEndColumn;
    this.tokens.push({
      type: 'newline',
      lexeme: '\n',
      line: this.line,
      column: col,
      endColumn: col,
      start: this.pos,
      end: this.pos,
    });
    this.lastEndColumn = 0;
  }

  private add(type: TokenType, start: number, extra?: Partial<Token>): void {
    const token: Token = {
      type,
      lexeme: this.source.slice(start, this.pos),
      line: this.line,
      column: this.column(start),
      endColumn: this.column(this.pos),
      start,
      end: this.pos,
      ...extra,
    };
    this.tokens.push(token);
    this.lastEndColumn = token.endColumn;
  }

  /** Reports an error at `at` and leaves an `error` token covering start…pos. */
  private fail(start: number, message: string, at = start): void {
    this.diagnostics.push(makeDiagnostic(this.line, this.column(at), message));
    this.add('error', start);
  }

  private name(start: number): void {
    while (isNameChar(this.peek())) this.advance();
    const word = this.source.slice(start, this.pos);
    this.add(isKeyword(word) ? word : 'name', start);
  }

  /** A number is the longest run of name characters from a digit, checked as a whole: `0X10` and `12ab` are errors. */
  private number(start: number): void {
    while (isNameChar(this.peek())) this.advance();
    const word = this.source.slice(start, this.pos);
    let body = word;
    let suffix: SizeSuffix | undefined;
    const last = word[word.length - 1];
    if (last === 'K' || last === 'M' || last === 'G') {
      suffix = last;
      body = word.slice(0, -1);
    }
    let radix = 10;
    let digits = body;
    let valid = /^[0-9]$/;
    let kind = 'decimal';
    if (body.startsWith('0x')) {
      [radix, digits, valid, kind] = [16, body.slice(2), /^[0-9a-fA-F]$/, 'hexadecimal'];
    } else if (body.startsWith('0b')) {
      [radix, digits, valid, kind] = [2, body.slice(2), /^[01]$/, 'binary'];
    }
    if (digits === '') return this.fail(start, `number '${word}' has no digits after '${body}'`);
    for (const d of digits) {
      if (d !== '_' && !valid.test(d)) {
        return this.fail(start, `invalid digit '${d}' in ${kind} number '${word}'`);
      }
    }
    if (digits.startsWith('_') || digits.endsWith('_') || digits.includes('__')) {
      return this.fail(start, `'_' in number '${word}' must stand between two digits`);
    }
    const clean = digits.replace(/_/g, '');
    const value = radix === 10 ? BigInt(clean) : BigInt((radix === 16 ? '0x' : '0b') + clean);
    if (value > MAX_U64) return this.fail(start, `number '${word}' is above 2^64-1`);
    this.add('number', start, suffix ? { value, suffix } : { value });
  }

  private string(start: number): void {
    let text = '';
    while (true) {
      if (this.pos >= this.source.length || this.peek() === '\n') {
        return this.fail(start, 'unterminated string (a string ends on its line)');
      }
      const at = this.pos;
      const c = this.advance();
      if (c === '"') break;
      if (c === '\\') {
        const e = this.peek();
        if (e === '"' || e === '\\') {
          text += this.advance();
          continue;
        }
        // Skip to the closing quote so the rest of the string is not scanned as code.
        while (this.pos < this.source.length && this.peek() !== '\n' && this.peek() !== '"') {
          if (this.advance() === '\\' && this.peek() !== '\n' && this.pos < this.source.length)
            this.advance();
        }
        if (this.peek() === '"') this.advance();
        const shown = e === '\n' || e === '\0' ? '\\' : `\\${e}`;
        return this.fail(start, `invalid escape '${shown}' in string (only \\" and \\\\ are allowed)`, at);
      }
      text += c;
    }
    this.add('string', start, { text });
  }
}

export function scan(source: string): ScanResult {
  return new Scanner(source).scan();
}
