/**
 * Property tests: the interpreter's arithmetic against an independent BigInt model, the parser's
 * precedence against a minimal-parentheses printer, and number literals in every notation.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { scan } from '../../engine/language/scanner';
import { parseSource } from '../../engine/language/declarationParser';
import type { DeclOf, Expr, Stmt } from '../../engine/language/ast';
import { run, src } from './helpers';

const MOD = 1n << 64n;
const u64 = fc.bigInt({ min: 0n, max: MOD - 1n });
/** Values near the interesting edges as well as anywhere. */
const value = fc.oneof(u64, fc.bigInt({ min: 0n, max: 70n }), fc.bigInt({ min: MOD - 70n, max: MOD - 1n }));

type Node =
  | { kind: 'lit'; v: bigint }
  | { kind: 'var'; name: 'a' | 'b' | 'c' }
  | { kind: 'un'; op: '-' | '~' | '!'; e: Node }
  | { kind: 'bin'; op: string; l: Node; r: Node };

const BINARY_OPS = [
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
];
const PRECEDENCE: Record<string, number> = {
  '||': 1,
  '&&': 2,
  '|': 3,
  '^': 4,
  '&': 5,
  '==': 6,
  '!=': 6,
  '<': 7,
  '<=': 7,
  '>': 7,
  '>=': 7,
  '<<': 8,
  '>>': 8,
  '+': 9,
  '-': 9,
  '*': 10,
  '/': 10,
  '%': 10,
};

const node: fc.Arbitrary<Node> = fc.letrec<{ node: Node }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'medium', maxDepth: 7, withCrossShrink: true },
    value.map((v): Node => ({ kind: 'lit', v })),
    fc.constantFrom('a', 'b', 'c').map((name): Node => ({ kind: 'var', name: name as 'a' | 'b' | 'c' })),
    fc.record({
      kind: fc.constant('un' as const),
      op: fc.constantFrom('-', '~', '!'),
      e: tie('node'),
    }) as fc.Arbitrary<Node>,
    fc.record({
      kind: fc.constant('bin' as const),
      op: fc.constantFrom(...BINARY_OPS),
      l: tie('node'),
      r: tie('node'),
    }) as fc.Arbitrary<Node>,
  ),
})).node;

class DivideByZero extends Error {}

/** The reference model: mathematical integers reduced mod 2^64. */
function model(n: Node, env: Record<string, bigint>): bigint {
  const wrap = (x: bigint) => ((x % MOD) + MOD) % MOD;
  switch (n.kind) {
    case 'lit':
      return n.v;
    case 'var':
      return env[n.name];
    case 'un': {
      const x = model(n.e, env);
      return n.op === '-' ? wrap(-x) : n.op === '~' ? MOD - 1n - x : x === 0n ? 1n : 0n;
    }
    case 'bin': {
      const x = model(n.l, env);
      if (n.op === '&&') return x !== 0n && model(n.r, env) !== 0n ? 1n : 0n;
      if (n.op === '||') return x !== 0n || model(n.r, env) !== 0n ? 1n : 0n;
      const y = model(n.r, env);
      const bool = (c: boolean) => (c ? 1n : 0n);
      switch (n.op) {
        case '|':
          return x | y;
        case '^':
          return x ^ y;
        case '&':
          return x & y;
        case '==':
          return bool(x === y);
        case '!=':
          return bool(x !== y);
        case '<':
          return bool(x < y);
        case '<=':
          return bool(x <= y);
        case '>':
          return bool(x > y);
        case '>=':
          return bool(x >= y);
        case '<<':
          return y >= 64n ? 0n : wrap(x * 2n ** y);
        case '>>':
          return y >= 64n ? 0n : x / 2n ** y;
        case '+':
          return wrap(x + y);
        case '-':
          return wrap(x - y);
        case '*':
          return wrap(x * y);
        case '/':
        case '%':
          if (y === 0n) throw new DivideByZero();
          return n.op === '/' ? x / y : x % y;
      }
      throw new Error(`no operator ${n.op}`);
    }
  }
}

function literal(v: bigint, style: number): string {
  return style === 0 ? v.toString() : style === 1 ? `0x${v.toString(16)}` : `0b${v.toString(2)}`;
}

/** Prints with the fewest parentheses the precedence table needs (all operators left-associative). */
function print(n: Node): string {
  switch (n.kind) {
    case 'lit':
      return literal(n.v, Number(n.v % 3n));
    case 'var':
      return n.name;
    case 'un':
      return `${n.op}${n.e.kind === 'bin' ? `(${print(n.e)})` : print(n.e)}`;
    case 'bin': {
      const p = PRECEDENCE[n.op];
      const left = n.l.kind === 'bin' && PRECEDENCE[n.l.op] < p ? `(${print(n.l)})` : print(n.l);
      const right = n.r.kind === 'bin' && PRECEDENCE[n.r.op] <= p ? `(${print(n.r)})` : print(n.r);
      return `${left} ${n.op} ${right}`;
    }
  }
}

describe('Properties', () => {
  it('evaluates random expressions as the mod-2^64 reference model does', () => {
    fc.assert(
      fc.property(node, value, value, value, (n, a, b, c) => {
        const r = run(
          src(
            'domain d pv memory=4K',
            'vcpu d',
            `  let a = ${a}`,
            `  let b = ${b}`,
            `  let c = ${c}`,
            `  print ${print(n)}`,
            'end',
          ),
        );
        let expected: string;
        try {
          expected = `0x${model(n, { a, b, c }).toString(16)}`;
        } catch (e) {
          if (!(e instanceof DivideByZero)) throw e;
          expect(r.outcomes.at(-1)?.error?.message).toMatch(/^(division|modulo) by zero$/);
          return;
        }
        expect(r.output).toEqual([expected]);
      }),
      { numRuns: 300 },
    );
  });

  it('parses the minimally parenthesised print of a tree back into the same tree', () => {
    const full = (x: Node): string =>
      x.kind === 'lit'
        ? x.v.toString()
        : x.kind === 'var'
          ? x.name
          : x.kind === 'un'
            ? `(${x.op}${full(x.e)})`
            : `(${full(x.l)} ${x.op} ${full(x.r)})`;
    const show = (e: Expr): string =>
      e.kind === 'number'
        ? e.value.toString()
        : e.kind === 'name'
          ? e.name
          : e.kind === 'group'
            ? show(e.inner)
            : e.kind === 'unary'
              ? `(${e.op}${show(e.operand)})`
              : e.kind === 'binary'
                ? `(${show(e.left)} ${e.op} ${show(e.right)})`
                : 'call';
    fc.assert(
      fc.property(node, (n) => {
        const text = print(n);
        const { file, diagnostics } = parseSource(src('vcpu d', `  let x = ${text}`, 'end'));
        expect(diagnostics).toEqual([]);
        const [statement] = (file.declarations[0] as DeclOf<'vcpu'>).body;
        const parsed = (statement as Extract<Stmt, { kind: 'let' }>).value as Expr;
        expect(show(parsed)).toBe(full(n));
        expect(parsed.text).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });

  it('reads every u64 in decimal, hex and binary, with _ between any digits', () => {
    fc.assert(
      fc.property(
        u64,
        fc.integer({ min: 0, max: 2 }),
        fc.array(fc.boolean(), { maxLength: 64 }),
        (v, style, cuts) => {
          const text = literal(v, style);
          const prefix = style === 0 ? '' : text.slice(0, 2);
          const digits = [...text.slice(prefix.length)];
          const spaced = digits.map((d, i) => (i > 0 && cuts[i] ? `_${d}` : d)).join('');
          const { tokens, diagnostics } = scan(prefix + spaced);
          expect(diagnostics).toEqual([]);
          expect(tokens[0].value).toBe(v);
        },
      ),
    );
  });
});
