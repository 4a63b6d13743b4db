/** The public surface the CLI and the debug adapter use: the loaded Program, breakpoint lines, expression checks. */
import { describe, expect, it } from 'vitest';
import { breakpointLine, formatDiagnostic, parseExpression, parseProgram } from '../../engine/language';
import { load, src } from './helpers';

const FILE = src(
  'domain web pv memory=16M vcpus=2', // 1
  'domain h hvm memory=8M paging=hap', // 2
  'const BASE = 0x1000', //              3
  'proc touch(a, b)', //                 4
  '  write a, b', //                     5
  'end', //                              6
  'vcpu h', //                           7
  '  ; nothing here', //                 8
  '  let x = BASE', //                   9
  '  if x', //                           10
  '    call touch(x, 1)', //             11
  '  end', //                            12
  'end', //                              13
  'vcpu web.1', //                       14
  '  halt', //                           15
  'end',
);

describe('Program', () => {
  it('exposes the declarations in declaration order', () => {
    const p = load(FILE);
    expect(p.vcpus).toEqual([
      { domain: 'h', index: 0, line: 7 },
      { domain: 'web', index: 1, line: 14 },
    ]);
    expect(p.procs).toEqual([{ name: 'touch', params: ['a', 'b'], line: 4 }]);
    expect([...p.consts]).toEqual([['BASE', 0x1000n]]);
    expect(p.domains.map((d) => d.id)).toEqual([1, 2]);
    expect(p.file).toBe('t.guest');
  });

  it('lists the step lines and moves a breakpoint to the next one', () => {
    const p = load(FILE);
    expect(p.stepLines).toEqual([5, 9, 10, 11, 15]);
    expect([
      breakpointLine(p, 8),
      breakpointLine(p, 12),
      breakpointLine(p, 16),
      breakpointLine(p, 1),
    ]).toEqual([9, 15, null, 5]);
  });

  it('returns no program and sorted, formatted diagnostics for a rejected file', () => {
    const { program, diagnostics } = parseProgram(
      src('vcpu nowhere', '  let a = b', 'end', 'vcpu', 'end'),
      'bad.guest',
    );
    expect(program).toBeNull();
    expect(diagnostics.map((d) => formatDiagnostic('bad.guest', d))).toEqual([
      "bad.guest:1:6: error: unknown domain 'nowhere'",
      "bad.guest:2:11: error: unknown variable 'b'",
      'bad.guest:4:5: error: expected a domain name, found end of line',
    ]);
    expect(diagnostics.every((d) => d.severity === 'error')).toBe(true);
  });
});

describe('parseExpression', () => {
  it('accepts a well-formed condition', () => {
    const { expr, diagnostics } = parseExpression('fault == PF && fault_addr >= BASE', load(FILE));
    expect(diagnostics).toEqual([]);
    expect(expr?.text).toBe('fault == PF && fault_addr >= BASE');
  });

  it.each([
    ['1 +', '1:4: expected an expression, found end of line'],
    ['a b', "1:3: expected the end of the expression, found 'b'"],
    ['let x = 1', "1:1: expected an expression, found 'let'"],
    ['frob(1)', "1:1: unknown function 'frob'"],
    ['va(1)', "1:1: 'va' takes 4 or 5 arguments, got 1"],
    ['touch(1, 2)', "1:1: 'touch' is a proc; an expression cannot call a proc"],
    ['domid(nobody)', "1:7: unknown domain 'nobody'"],
    ['"text"', "1:1: a string may only be a 'print' item or an 'expect' message"],
  ])('rejects %s', (source, message) => {
    const { expr, diagnostics } = parseExpression(source, load(FILE));
    expect(expr).toBeNull();
    expect(diagnostics.map((d) => `${d.line}:${d.column}: ${d.message}`)).toEqual([message]);
  });

  it('checks only the syntax without a program', () => {
    expect(parseExpression('frob(1) + x').diagnostics).toEqual([]);
  });
});
