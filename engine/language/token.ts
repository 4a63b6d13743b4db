/**
 * Tokens of the guest language (`guest-language.md` § Lexical).
 *
 * Newlines are tokens: one statement per line, and the parser recovers at the next line. The
 * scanner emits a `newline` only for lines that hold at least one token, with the column just after
 * the line's last token, which is where a "missing token at end of line" error points.
 * Keywords get a token type of their own; the other reserved words (built-in constants, registers,
 * built-in functions) and the contextual words (`pv`, `memory`, `kernel`, mmuext ops …) are `name`s,
 * because their meaning depends on where they stand.
 */

export const KEYWORDS = [
  'machine',
  'domain',
  'const',
  'proc',
  'end',
  'vcpu',
  'let',
  'if',
  'else',
  'for',
  'in',
  'while',
  'call',
  'return',
  'print',
  'expect',
  'halt',
  'mode',
  'mov',
  'invlpg',
  'fetch',
  'write',
  'write8',
  'write16',
  'write32',
  'write64',
  'mmu_update',
  'mmuext',
  'update_va_mapping',
] as const;
export type Keyword = (typeof KEYWORDS)[number];

const KEYWORD_SET: ReadonlySet<string> = new Set(KEYWORDS);

export function isKeyword(word: string): word is Keyword {
  return KEYWORD_SET.has(word);
}

export const PUNCTUATION = [
  '(',
  ')',
  ',',
  '.',
  '..',
  '=',
  '||',
  '&&',
  '|',
  '^',
  '&',
  '==',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  '<<',
  '>>',
  '+',
  '-',
  '*',
  '/',
  '%',
  '~',
  '!',
] as const;
export type Punctuation = (typeof PUNCTUATION)[number];

export type TokenType = 'name' | 'number' | 'string' | 'newline' | 'eof' | 'error' | Keyword | Punctuation;

export type SizeSuffix = 'K' | 'M' | 'G';

export interface Token {
  readonly type: TokenType;
  /** The characters as written (for a string, with its quotes and escapes). */
  readonly lexeme: string;
  /** 1-based line and column (the column counts characters; a tab is one). */
  readonly line: number;
  readonly column: number;
  /** The column just after the token's last character. */
  readonly endColumn: number;
  /** Offsets into the source, `end` exclusive: expression nodes slice their text with them. */
  readonly start: number;
  readonly end: number;
  /** `number`: the value without the size suffix. */
  readonly value?: bigint;
  /** `number`: the `K`/`M`/`G` suffix, allowed only in SIZEs. */
  readonly suffix?: SizeSuffix;
  /** `string`: the text with escapes resolved. */
  readonly text?: string;
}

/** How a token is named in messages: `'end'`, `end of line`, `number '0x10'`. */
export function describeToken(token: Token): string {
  switch (token.type) {
    case 'newline':
      return 'end of line';
    case 'eof':
      return 'end of file';
    case 'number':
      return `number '${token.lexeme}'`;
    case 'string':
      return `string ${token.lexeme}`;
    default:
      return `'${token.lexeme}'`;
  }
}
