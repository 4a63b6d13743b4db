import { describe, expect, it } from 'vitest';
import { parseSource } from '../../engine/language/declarationParser';
import type { DeclOf, Expr, Stmt } from '../../engine/language/ast';
import { errors, src } from './helpers';

function parseErrors(source: string): string[] {
  return parseSource(source).diagnostics.map((d) => `${d.line}:${d.column}: ${d.message}`);
}

function body(...lines: string[]): Stmt[] {
  const { file, diagnostics } = parseSource(src('vcpu d', ...lines, 'end'));
  expect(diagnostics).toEqual([]);
  return (file.declarations[0] as DeclOf<'vcpu'>).body;
}

/** A fully parenthesised rendering, to check precedence. */
function show(e: Expr): string {
  switch (e.kind) {
    case 'number':
      return e.value.toString();
    case 'name':
      return e.name;
    case 'group':
      return show(e.inner);
    case 'unary':
      return `(${e.op}${show(e.operand)})`;
    case 'binary':
      return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case 'call':
      return `${e.name}(${e.args.map(show).join(', ')})`;
  }
}

function exprOf(text: string): Expr {
  const [s] = body(`let x = ${text}`);
  if (s.kind !== 'let') throw new Error('not a let');
  return s.value as Expr;
}

describe('Parser declarations', () => {
  it('parses machine, domains, consts, procs and vcpu blocks', () => {
    const { file, diagnostics } = parseSource(
      src(
        'machine memory=1G',
        'domain web pv memory=16M vcpus=2 privileged',
        'domain h hvm paging=hap memory=8M',
        'domain s hvm memory=4K',
        'const N = 4',
        'proc f(a, b)',
        'end',
        'vcpu web.1',
        'end',
      ),
    );
    expect(diagnostics).toEqual([]);
    const [machine, web, h, s, n, f, v] = file.declarations as never[] as Record<string, unknown>[];
    expect((machine.memory as { bytes: bigint }).bytes).toBe(1n << 30n);
    expect(web).toMatchObject({ domainKind: 'pv', vcpus: 2, privileged: true, paging: null });
    expect((web.memory as { bytes: bigint }).bytes).toBe(16n << 20n);
    expect(h).toMatchObject({ domainKind: 'hvm', vcpus: 1, privileged: false, paging: 'hap' });
    expect(s).toMatchObject({ paging: 'shadow' });
    expect(n).toMatchObject({ kind: 'const', name: { name: 'N' } });
    expect(f).toMatchObject({ kind: 'proc', name: { name: 'f' }, headerOk: true });
    expect((f.params as { name: string }[]).map((p) => p.name)).toEqual(['a', 'b']);
    expect(v).toMatchObject({ kind: 'vcpu', domain: { name: 'web' }, index: 1, line: 8 });
  });

  it.each([
    ['domain d pv memory=1000', '1:20: size 1000 is not a positive multiple of 4K'],
    ['domain d pv memory=0', '1:20: size 0 is not a positive multiple of 4K'],
    ['domain d pv memory=17179869184G', '1:20: size 17179869184G is above 2^64-1 bytes'],
    ['domain d pv vcpus=2', "1:20: domain 'd' needs memory=SIZE"],
    ['domain d pv memory=4K memory=8K', "1:23: 'memory' is given twice"],
    ['domain d pv memory=4K paging=hap', "1:23: 'paging' applies only to hvm domains"],
    ['domain d hvm memory=4K privileged', "1:24: 'privileged' applies only to pv domains"],
    ['domain d hvm memory=4K paging=ept', "1:31: expected 'shadow' or 'hap', found 'ept'"],
    ['domain d xen memory=4K', "1:10: expected 'pv' or 'hvm', found 'xen'"],
    ['domain d pv memory=4K vcpus=0', '1:29: vcpus must be a number from 1 to 1024, found 0'],
    ['domain d pv memory=4K colour=red', "1:23: expected memory=, vcpus= or privileged, found 'colour'"],
    ['machine memory=4K extra', "1:19: expected end of line, found 'extra'"],
    ['const = 4', "1:7: expected a const name, found '='"],
    ['let x = 1', "1:1: statements belong inside a 'vcpu' or 'proc' block"],
    ['end', "1:1: 'end' without a block to close"],
    ['42', "1:1: expected a declaration (machine, domain, const, proc or vcpu), found number '42'"],
  ])('rejects %s', (line, message) => {
    expect(parseErrors(src(line))).toEqual([message]);
  });

  it('skips a block statement at the top level whole, so that its end is not reported again', () => {
    expect(parseErrors(src('if 1', '  halt', 'end', 'halt'))).toEqual([
      "1:1: statements belong inside a 'vcpu' or 'proc' block",
      "4:1: statements belong inside a 'vcpu' or 'proc' block",
    ]);
  });

  it('reports a block that is not closed at its opening keyword', () => {
    expect(parseErrors(src('vcpu d', '  if 1', '    halt', 'end', 'proc f()', 'end'))).toEqual([
      "1:1: 'vcpu' is not closed by 'end'",
    ]);
    expect(parseErrors(src('proc f()', '  while 1'))).toEqual([
      "2:3: 'while' is not closed by 'end'",
      "1:1: 'proc' is not closed by 'end'",
    ]);
  });

  it('reports a declaration inside a block and goes on', () => {
    expect(parseErrors(src('vcpu d', '  const X = 1', '  halt', 'end'))).toEqual([
      "2:3: 'const' declarations belong at the top level, outside blocks",
    ]);
  });
});

describe('Parser statements', () => {
  it('parses every statement', () => {
    const kinds = body(
      'let a = 1',
      'a = 2',
      'let b = call f(1, 2)',
      'b = call f(a, 3)',
      'call f(1, 2)',
      'return',
      'return a',
      'print "x", a, "y"',
      'expect a == 1',
      'expect a == 1, "message"',
      'halt',
      'mode kernel',
      'mode user',
      'write8 a, 1',
      'write16 a, 1',
      'write32 a, 1',
      'write64 a, 1',
      'write a, 1',
      'fetch a',
      'mov cr0, 1',
      'mov cr3, 1',
      'mov cr4, 1',
      'invlpg a',
      'mmu_update 1, 2',
      'mmu_update 1, 2, 3, 4 foreign=web',
      'mmu_update 1, 2, foreign=web',
      'mmuext pin_l4_table, 5',
      'mmuext tlb_flush_local',
      'update_va_mapping 1, 2, UVMF_INVLPG',
      'if a',
      'end',
      'for i in 0..4',
      'end',
      'while a',
      'end',
    ).map((s) => s.kind);
    expect(kinds).toEqual(
      'let assign let assign call return return print expect expect halt mode mode write write write write write fetch mov mov mov invlpg mmu_update mmu_update mmu_update mmuext mmuext update_va_mapping if for while'.split(
        ' ',
      ),
    );
  });

  it('keeps the details of each statement', () => {
    const [w8, w, mov, mmu, mmu2, ext, ext2, mode, pr, ex] = body(
      'write8 1, 2',
      'write 1, 2',
      'mov cr4, 1',
      'mmu_update 1, 2, 3, 4 foreign=web',
      'mmu_update 1, 2, foreign , 3',
      'mmuext pin_l4_table, 5',
      'mmuext tlb_flush_all',
      'mode user',
      'print "a;b", 1',
      'expect 1, "why \\"not\\""',
    ) as unknown as Record<string, unknown>[];
    expect([w8.size, w.size, mov.register, mode.mode]).toEqual([1, 8, 4, 'user']);
    expect((mmu.pairs as unknown[]).length).toBe(2);
    expect(mmu.foreign).toMatchObject({ name: 'web' });
    // `foreign` without `=` is an ordinary name: a PTR of the next pair.
    expect((mmu2.pairs as unknown[]).length).toBe(2);
    expect(mmu2.foreign).toBeNull();
    expect(ext).toMatchObject({ op: { name: 'pin_l4_table' } });
    expect(ext2.arg).toBeNull();
    expect((pr.items as { kind: string; text?: string }[])[0]).toEqual({ kind: 'string', text: 'a;b' });
    expect(ex.message).toBe('why "not"');
  });

  it('gives if/else one end and else-if its own', () => {
    const [s] = body('if a', '  halt', 'else if b', '  halt', 'else', '  halt', 'end', '  fetch 1', 'end');
    if (s.kind !== 'if') throw new Error('not an if');
    expect(s.then.map((x) => x.kind)).toEqual(['halt']);
    const otherwise = s.otherwise ?? [];
    expect(otherwise.map((x) => x.kind)).toEqual(['if', 'fetch']);
    const inner = otherwise[0] as Extract<Stmt, { kind: 'if' }>;
    expect([inner.line, inner.column]).toEqual([4, 6]);
    expect(inner.otherwise?.map((x) => x.kind)).toEqual(['halt']);
  });

  it('parses for with the range binding loosest', () => {
    const [s] = body('for i in a + 1..b * 2 | 1', 'end');
    if (s.kind !== 'for') throw new Error('not a for');
    expect([show(s.from as Expr), show(s.to as Expr)]).toEqual(['(a + 1)', '((b * 2) | 1)']);
  });
});

describe('Parser expressions', () => {
  it.each([
    ['1 || 2 && 3', '(1 || (2 && 3))'],
    ['1 && 2 | 3', '(1 && (2 | 3))'],
    ['1 | 2 ^ 3', '(1 | (2 ^ 3))'],
    ['1 ^ 2 & 3', '(1 ^ (2 & 3))'],
    ['1 & 2 == 3', '(1 & (2 == 3))'],
    ['1 == 2 < 3', '(1 == (2 < 3))'],
    ['1 < 2 << 3', '(1 < (2 << 3))'],
    ['1 << 2 + 3', '(1 << (2 + 3))'],
    ['1 + 2 * 3', '(1 + (2 * 3))'],
    ['-1 * ~2', '((-1) * (~2))'],
    ['!a == 0', '((!a) == 0)'],
    ['1 - 2 - 3', '((1 - 2) - 3)'],
    ['8 / 4 / 2', '((8 / 4) / 2)'],
    ['(1 + 2) * 3', '((1 + 2) * 3)'],
    ['va(1, 2, 3, 4) + read64(a & 7)', '(va(1, 2, 3, 4) + read64((a & 7)))'],
    ['a != b >= c', '(a != (b >= c))'],
    ['alloc()', 'alloc()'],
  ])('%s', (text, shown) => {
    expect(show(exprOf(text))).toBe(shown);
  });

  it('orders every pair of binary operators by the precedence table, left-associative within a level', () => {
    const levels = ['||', '&&', '|', '^', '&', '== !=', '< <= > >=', '<< >>', '+ -', '* / %'];
    const level = new Map(levels.flatMap((ops, i) => ops.split(' ').map((op) => [op, i] as const)));
    for (const [p, lp] of level) {
      for (const [q, lq] of level) {
        const expected = lq > lp ? `(a ${p} (b ${q} c))` : `((a ${p} b) ${q} c)`;
        expect(show(exprOf(`a ${p} b ${q} c`)), `a ${p} b ${q} c`).toBe(expected);
      }
    }
  });

  it('keeps each expression node exact source text', () => {
    const e = exprOf('( a +  1 )*read64( p )   ; comment');
    expect(e.text).toBe('( a +  1 )*read64( p )');
    if (e.kind !== 'binary') throw new Error('not binary');
    expect([e.left.text, e.right.text]).toEqual(['( a +  1 )', 'read64( p )']);
  });

  it('rejects a size suffix and a string inside an expression', () => {
    expect(parseErrors(src('vcpu d', '  let x = 4K', '  let y = "s"', 'end'))).toEqual([
      "2:11: a size suffix ('K') is allowed only in memory sizes",
      "3:11: a string may only be a 'print' item or an 'expect' message",
    ]);
  });
});

describe('Parser errors and recovery', () => {
  it('reports a missing token at the end of a line just after its last character (the 5:16 example)', () => {
    expect(
      errors(src('domain d pv memory=4K', '', 'vcpu d', '    let b = 2', '    let a = 1 +', 'end')),
    ).toEqual(['5:16: expected an expression, found end of line']);
    expect(parseErrors(src('vcpu d', '    let a = 1 +   ; a comment', 'end'))).toEqual([
      '2:16: expected an expression, found end of line',
    ]);
  });

  it('reports three syntax errors in one file, each at its exact position', () => {
    const file = src(
      'domain d pv memory=16M',
      'vcpu d',
      '  let a = (1 + 2',
      '  write a 5',
      '  if a ==',
      '    print a',
      '  end',
      '  mov cr2, 1',
      'end',
    );
    expect(errors(file)).toEqual([
      "3:17: expected ')', found end of line",
      "4:11: expected ',', found number '5'",
      '5:10: expected an expression, found end of line',
      "8:7: expected cr0, cr3 or cr4, found 'cr2'",
    ]);
  });

  it('reports keywords used as names as reserved', () => {
    expect(parseErrors(src('vcpu d', '  let end = 1', '  for in in 0..1', '  end', 'end'))).toEqual([
      "2:7: 'end' is a reserved word and cannot be a variable name",
      "3:7: 'in' is a reserved word and cannot be a loop variable name",
    ]);
  });

  it.each([
    ['print', '1:6: expected an expression or a string to print, found end of line'],
    ['expect 1,', '1:10: expected a message string, found end of line'],
    ['expect 1, 2', "1:11: expected a message string, found number '2'"],
    ['mode supervisor', "1:6: expected 'kernel' or 'user', found 'supervisor'"],
    ['halt now', "1:6: expected end of line, found 'now'"],
    ['else', "1:1: 'else' without a matching 'if'"],
    ['foo(1)', "1:1: expected a statement, found 'foo' (to call a proc, write 'call foo(…)')"],
    ['x + 1', "1:1: expected a statement, found 'x'"],
    ['call f', "1:7: expected '(', found end of line"],
    ['update_va_mapping 1, 2', "1:23: expected ',', found end of line"],
    ['mmu_update 1', "1:13: expected ',', found end of line"],
    ['let x = f(1,', '1:13: expected an expression, found end of line'],
    ['let x = f(1 2)', "1:13: expected ',' or ')', found number '2'"],
  ])('in a body: %s', (line, message) => {
    const found = parseSource(src('vcpu d', line, 'end')).diagnostics.map(
      (x) => `${x.line - 1}:${x.column}: ${x.message}`,
    );
    expect(found).toEqual([message]);
  });

  it('a header with a malformed expression still opens its block', () => {
    expect(
      parseErrors(src('vcpu d', '  while 1 +', '    halt', '  end', '  for i in 0..', '  end', 'end')),
    ).toEqual([
      '2:12: expected an expression, found end of line',
      '5:15: expected an expression, found end of line',
    ]);
  });

  it('a malformed proc or vcpu header still parses its body', () => {
    expect(parseErrors(src('proc f(a,', '  halt', 'end', 'vcpu d.x', '  halt', 'end'))).toEqual([
      '1:10: expected a parameter name, found end of line',
      "4:8: expected a vCPU number, found 'x'",
    ]);
  });
});
