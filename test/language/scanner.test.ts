import { describe, expect, it } from 'vitest';
import { scan } from '../../engine/language/scanner';
import type { Token } from '../../engine/language/token';

function tokens(source: string): Token[] {
  return scan(source).tokens;
}

function numberOf(source: string): bigint | undefined {
  const result = scan(source);
  expect(result.diagnostics).toEqual([]);
  expect(result.tokens[0].type).toBe('number');
  return result.tokens[0].value;
}

function errorOf(source: string): string {
  const { diagnostics } = scan(source);
  expect(diagnostics).toHaveLength(1);
  const [d] = diagnostics;
  return `${d.line}:${d.column}: ${d.message}`;
}

describe('Scanner numbers', () => {
  it.each([
    ['4096', 4096n],
    ['0', 0n],
    ['007', 7n],
    ['0x1000', 0x1000n],
    ['0xDEADbeef', 0xdeadbeefn],
    ['0b101', 5n],
    ['1_000_000', 1000000n],
    ['0xffff_8000_0000_0000', 0xffff_8000_0000_0000n],
    ['0b1111_0000', 0xf0n],
    ['0xffffffffffffffff', (1n << 64n) - 1n],
    ['18446744073709551615', (1n << 64n) - 1n],
  ])('reads %s', (text, value) => {
    expect(numberOf(text)).toBe(value);
  });

  it('keeps a K, M or G suffix apart from the value', () => {
    const [k, m, g] = tokens('4K 16M 0x2G');
    expect([k.value, k.suffix, m.value, m.suffix, g.value, g.suffix]).toEqual([4n, 'K', 16n, 'M', 2n, 'G']);
  });

  it.each([
    ['0x1_0000_0000_0000_0000', "1:1: number '0x1_0000_0000_0000_0000' is above 2^64-1"],
    ['18446744073709551616', "1:1: number '18446744073709551616' is above 2^64-1"],
    ['1__0', "1:1: '_' in number '1__0' must stand between two digits"],
    ['1_', "1:1: '_' in number '1_' must stand between two digits"],
    ['0x_1', "1:1: '_' in number '0x_1' must stand between two digits"],
    ['0b_1', "1:1: '_' in number '0b_1' must stand between two digits"],
    ['0x', "1:1: number '0x' has no digits after '0x'"],
    ['0b', "1:1: number '0b' has no digits after '0b'"],
    ['0b102', "1:1: invalid digit '2' in binary number '0b102'"],
    ['0xfg', "1:1: invalid digit 'g' in hexadecimal number '0xfg'"],
    ['0X10', "1:1: invalid digit 'X' in decimal number '0X10'"],
    ['12ab', "1:1: invalid digit 'a' in decimal number '12ab'"],
    ['16k', "1:1: invalid digit 'k' in decimal number '16k'"],
  ])('rejects %s', (text, message) => {
    expect(errorOf(text)).toBe(message);
  });

  it('reports a bad number at its first character, and the line goes on', () => {
    const { diagnostics, tokens: list } = scan('let x = 1 + 0x');
    expect(diagnostics.map((d) => d.column)).toEqual([13]);
    expect(list.map((t) => t.type)).toEqual(['let', 'name', '=', 'number', '+', 'error', 'newline', 'eof']);
  });

  it('a name may start with an underscore and contain digits', () => {
    expect(tokens('_1 l1 L1').map((t) => [t.type, t.lexeme])).toEqual([
      ['name', '_1'],
      ['name', 'l1'],
      ['name', 'L1'],
      ['newline', '\n'],
      ['eof', ''],
    ]);
  });
});

describe('Scanner strings', () => {
  it('resolves \\" and \\\\', () => {
    const [t] = tokens('"a \\"quoted\\" back\\\\slash ; not a comment"');
    expect(t.type).toBe('string');
    expect(t.text).toBe('a "quoted" back\\slash ; not a comment');
  });

  it('rejects any other escape at the backslash', () => {
    expect(errorOf('print "ab\\n"')).toBe(
      "1:10: invalid escape '\\n' in string (only \\\" and \\\\ are allowed)",
    );
  });

  it('rejects a string that runs to the end of its line', () => {
    expect(errorOf('print 1\nprint "abc\nhalt')).toBe('2:7: unterminated string (a string ends on its line)');
  });

  it('does not scan the rest of a string with a bad escape as code', () => {
    expect(scan('print "\\q \\" ; x" , 1').diagnostics).toHaveLength(1);
  });
});

describe('Scanner layout', () => {
  it('recognises keywords, contextual words and every operator', () => {
    const list = tokens(
      'let if mmuext pv memory kernel foreign || && | ^ & == != < <= > >= << >> + - * / % ~ ! = ( ) , . ..',
    );
    expect(list.map((t) => t.type).slice(0, 7)).toEqual([
      'let',
      'if',
      'mmuext',
      'name',
      'name',
      'name',
      'name',
    ]);
    expect(list.slice(7, -2).map((t) => t.type)).toEqual(
      '|| && | ^ & == != < <= > >= << >> + - * / % ~ ! = ( ) , . ..'.split(' '),
    );
  });

  it('skips comments, and a newline token stands just after the last character before the comment', () => {
    const list = tokens('    let a = 1 +   ; trailing\n\n; only a comment\nhalt');
    const newline = list.find((t) => t.type === 'newline') as Token;
    expect([newline.line, newline.column]).toEqual([1, 16]);
    expect(list.filter((t) => t.type === 'newline')).toHaveLength(2);
    expect(list.find((t) => t.type === 'halt')?.line).toBe(4);
  });

  it('counts a tab as one column and a character outside the BMP as one', () => {
    const list = tokens('\tlet x = "😀" + y');
    expect(list[0].column).toBe(2);
    const y = list.find((t) => t.lexeme === 'y') as Token;
    expect(y.column).toBe(16);
  });

  it('splits 0..10 into number, range and number', () => {
    expect(tokens('0..10').map((t) => t.type)).toEqual(['number', '..', 'number', 'newline', 'eof']);
  });

  it('treats CRLF line ends as line ends', () => {
    const list = tokens('halt\r\nhalt\r\n');
    expect(list.filter((t) => t.type === 'halt').map((t) => [t.line, t.column])).toEqual([
      [1, 1],
      [2, 1],
    ]);
  });

  it('reports an unexpected character', () => {
    expect(errorOf('let x = 1 @ 2')).toBe("1:11: unexpected character '@'");
  });
});
