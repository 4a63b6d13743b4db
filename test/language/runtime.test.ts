import { describe, expect, it } from 'vitest';
import { EvaluationError } from '../../engine/language/host';
import { formatExpectFailure, formatRuntimeError } from '../../engine/language/reports';
import type { StepOutcome } from '../../engine/language/interpreter';
import { FakeHost } from './fakeHost';
import { run, src, start } from './helpers';

const A = 'domain a pv memory=16M vcpus=2';

function firstError(...lines: string[]): { line: number; column: number; message: string } | null {
  const r = run(src(A, 'vcpu a', ...lines, 'end'));
  const o = r.outcomes.find((x) => x.kind === 'error');
  return o?.error ? { line: o.error.line, column: o.error.column, message: o.error.message } : null;
}

describe('Run-time errors', () => {
  it.each([
    [['  let x = 1 / (2 - 2)'], 'division by zero'],
    [['  print 5 % 0'], 'modulo by zero'],
    [['  if 0', '    let x = 1', '  end', '  print x'], "variable 'x' is read before its 'let' has run"],
    [['  let p = pte_addr(1, 512)'], 'pte_addr: index 0x200 is above 0x1ff'],
    [['  let v = va(0, 512, 0, 0)'], 'va: index 0x200 is above 0x1ff'],
    [['  let v = va(0, 0, 0, 0, 0x1000)'], 'va: offset 0x1000 is above 0xfff'],
    [
      ['  write64 0xffff_ffff_ffff_fff9, 1'],
      'write64 of 8 bytes at 0xfffffffffffffff9 goes past address 0xffffffffffffffff',
    ],
    [
      ['  let v = read32(-2)'],
      'read32 of 4 bytes at 0xfffffffffffffffe goes past address 0xffffffffffffffff',
    ],
    [['  for i in 0..20', '    let f = alloc()', '  end', '  halt'], 'alloc(): no frame left'],
  ])('%j stops the vCPU with %s', (lines, message) => {
    const e = firstError(...lines);
    expect(e?.message).toBe(message);
    // Reported at the failing statement's first character.
    const failing = lines.filter((l) => !/^\s*(end|halt)$/.test(l)).at(-1) as string;
    expect([e?.line, e?.column]).toEqual([lines.indexOf(failing) + 3, failing.search(/\S/) + 1]);
  });

  it('accepts accesses whose last byte is 2^64-1', () => {
    expect(
      firstError('  write64 0xffff_ffff_ffff_fff8, 1', '  write8 -1, 1', '  let v = read16(-2)'),
    ).toBeNull();
  });

  it('stops only the failing vCPU; the others run on', () => {
    const r = run(
      src(A, 'vcpu a', '  let x = 1 / 0', '  print 1', 'end', 'vcpu a.1', '  print 2', '  print 3', 'end'),
    );
    expect(r.output).toEqual(['0x2', '0x3']);
    const error = r.outcomes[0];
    expect(error).toMatchObject({ kind: 'error', step: 1, thread: 0, line: 3, column: 3, runEnded: false });
    expect(error.error).toMatchObject({ scope: 'vcpu', stopped: [0] });
    expect(formatRuntimeError('x.guest', error.error as NonNullable<StepOutcome['error']>)).toBe(
      'x.guest:3:3: runtime error: division by zero',
    );
    expect(r.interp.threads().map((t) => t.state)).toEqual(['error', 'finished']);
    // The stopped frame still shows where it stopped.
    expect(r.interp.frames(0)[0].line).toBe(3);
  });

  it('a domain crash stops every vCPU of that domain and no other', () => {
    const host = new FakeHost();
    host.crashOn = 'tlb_flush_all';
    const r = run(
      src(
        A,
        'domain b pv memory=4K',
        'vcpu a',
        '  mmuext tlb_flush_all',
        'end',
        'vcpu b',
        '  print 1',
        '  print 2',
        'end',
        'vcpu a.1',
        '  print 3',
        'end',
      ),
      100,
      host,
    );
    expect(r.outcomes[0].error).toMatchObject({
      scope: 'domain',
      stopped: [0, 2],
      message: 'domain a crashed: out of shadow memory',
    });
    expect(r.output).toEqual(['0x1', '0x2']);
    expect(r.interp.threads().map((t) => t.state)).toEqual(['error', 'finished', 'error']);
  });
});

describe('Failed expectations', () => {
  it('ends the whole run and reports text, message, values and position', () => {
    const host = new FakeHost();
    const r = run(
      src(
        A,
        'vcpu a',
        '  mmuext pin_l2_table, 1', //                        rc = -EBUSY in the fake
        '  let l2 = 4',
        '  expect  rc == -EBUSY && done == 0 || l2 + rc == 0   , "refused" ; comment',
        '  expect rc == 0 && type_of(l2) == L2 && rc != 1, "refused"',
        'end',
        'vcpu a.1',
        '  print 1',
        '  print 2',
        '  print 3',
        'end',
      ),
      100,
      host,
    );
    const last = r.outcomes.at(-1) as StepOutcome;
    expect(last.kind).toBe('expect-failed');
    expect(last.runEnded).toBe(true);
    expect(r.interp.finished).toBe(true);
    expect(r.output).toEqual(['0x1', '0x2', '0x3']);
    const failure = last.expectFailure;
    expect(failure).toMatchObject({
      line: 6,
      column: 3,
      text: 'rc == 0 && type_of(l2) == L2 && rc != 1',
      message: 'refused',
      callChain: [],
    });
    expect(failure?.values).toEqual([
      { name: 'rc', value: 0xffff_ffff_ffff_fff0n },
      { name: 'l2', value: 4n },
    ]);
    expect(formatExpectFailure('pv.guest', failure as NonNullable<typeof failure>)).toEqual([
      'pv.guest:6:3: expectation failed: rc == 0 && type_of(l2) == L2 && rc != 1 \u2014 refused',
      '  rc = 0xfffffffffffffff0',
      '  l2 = 0x4',
    ]);
    expect(host.expectFailures).toEqual([
      { text: failure?.text, message: 'refused', values: failure?.values },
    ]);
    expect(r.interp.expectations).toEqual({ passed: 1, failed: 1 });
    expect(r.interp.step().kind).toBe('idle');
  });

  it('shows fault by name and the value each register had when the expression read it', () => {
    const host = new FakeHost();
    host.memory.faultingPages.add(5n);
    const r = run(
      src(A, 'vcpu a', '  write 0x5000, 1', '  expect fault == PF && read64(0x1000) == 1', 'end'),
      100,
      host,
    );
    const failure = r.outcomes.at(-1)?.expectFailure;
    // The read after it set fault to NOFAULT, but the expression saw PF.
    expect(host.vcpus.get('a.0')?.register('fault')).toBe(0n);
    expect(failure?.values).toEqual([{ name: 'fault', value: 'PF' }]);
    expect(formatExpectFailure('f.guest', failure as NonNullable<typeof failure>)).toEqual([
      'f.guest:4:3: expectation failed: fault == PF && read64(0x1000) == 1',
      '  fault = PF',
    ]);
  });

  it('lists variables inside call arguments, not constants or calls, and a register not reached by its current value', () => {
    const r = run(
      src(
        A,
        'const K = 3',
        'vcpu a',
        '  let p = 2',
        '  expect pte_addr(p, K) == 0 && fault_code == 9 && p == p',
        'end',
      ),
    );
    expect(r.outcomes.at(-1)?.expectFailure?.values).toEqual([
      { name: 'p', value: 2n },
      { name: 'fault_code', value: 0n },
    ]);
  });

  it('gives the proc chain innermost first', () => {
    const r = run(
      src(
        A,
        'proc inner(v)', //       2
        '  expect v == 1', //     3
        'end',
        'proc outer()', //        5
        '  call inner(2)', //     6
        'end',
        'vcpu a', //              8
        '  call outer()', //      9
        'end',
      ),
    );
    const failure = r.outcomes.at(-1)?.expectFailure;
    expect(failure?.callChain).toEqual([
      { proc: 'inner', calledFrom: 6 },
      { proc: 'outer', calledFrom: 9 },
    ]);
    expect(formatExpectFailure('c.guest', failure as NonNullable<typeof failure>)).toEqual([
      'c.guest:3:3: expectation failed: v == 1',
      '  v = 0x2',
      '  in inner called from c.guest:6',
      '  in outer called from c.guest:9',
    ]);
  });
});

describe('Snapshots', () => {
  it('restoring a mid-run snapshot gives an identical continuation', () => {
    const file = src(
      A,
      'proc fib(n)',
      '  if n < 2',
      '    return n',
      '  end',
      '  let a = call fib(n - 1)',
      '  let b = call fib(n - 2)',
      '  write8 0x100 + n, a + b',
      '  return a + b',
      'end',
      'vcpu a',
      '  let f = call fib(7)',
      '  print f, read8(0x106)',
      'end',
      'vcpu a.1',
      '  for i in 0..30',
      '    write 0x200 + i * 8, alloc()',
      '    print i',
      '  end',
      'end',
    );
    const host = new FakeHost();
    host.framesPerDomain = 100n;
    const r = start(file, host);
    for (let i = 0; i < 57; i++) r.interp.step();
    const saved = r.interp.snapshot();
    const restoreHost = host.snapshot();
    const savedOutput = r.output.length;
    const continueRun = () => {
      const lines: string[] = [];
      while (!r.interp.finished) {
        const o = r.interp.step();
        lines.push(`${o.step}:${o.thread}:${o.line}:${o.kind}`);
      }
      return {
        lines,
        output: r.output.slice(savedOutput),
        frames: r.interp.frames(1),
        calls: host.calls.slice(),
      };
    };
    const first = continueRun();
    expect(first.output).toContain('0xd 0x8');
    r.interp.restore(saved);
    restoreHost();
    r.output.length = savedOutput;
    expect(r.interp.stepCount).toBe(57);
    const second = continueRun();
    expect(second).toEqual(first);
    // The snapshot itself was not consumed: restoring it again works as well.
    r.interp.restore(saved);
    restoreHost();
    r.output.length = savedOutput;
    expect(continueRun()).toEqual(first);
  });
});

describe('Debugger evaluation', () => {
  function stopped() {
    const host = new FakeHost();
    host.memory.write(8, 0x2000n, 0x1234n);
    host.memory.faultingPages.add(9n);
    const r = start(
      src(
        A,
        'proc f(p)',
        '  let q = p + 1',
        '  let z = 0',
        'end',
        'vcpu a',
        '  let x = 5',
        '  call f(x)',
        'end',
      ),
      host,
    );
    r.interp.step();
    r.interp.step();
    r.interp.step();
    return r;
  }

  it('evaluates in a frame with variables, registers, consts and peeking built-ins', () => {
    const r = stopped();
    expect(r.interp.evaluate('p + q', 0, 0)).toBe(11n);
    expect(r.interp.evaluate('x * 2', 0, 1)).toBe(10n);
    expect(r.interp.evaluate('read64(0x2000) + cr0 + PAE', 0)).toBe(0x1234n + 0x11n + 0x20n);
    expect(r.interp.evaluate('type_of(3)', 0)).toBe(0x42n);
    expect(r.host.peeks).toEqual(['read64(0x2000)', 'type_of(0x3)']);
    // Nothing reached the machine as an access.
    expect(r.host.calls).toEqual([]);
    expect(r.interp.stepCount).toBe(3);
  });

  it('lets bindings shadow variables and registers', () => {
    const r = stopped();
    const bindings = new Map([
      ['q', 100n],
      ['rc', 7n],
      ['value', 3n],
    ]);
    expect(r.interp.evaluate('q + rc + value', 0, 0, bindings)).toBe(110n);
    expect(r.interp.evaluate('q', 0, 0)).toBe(6n);
  });

  it.each([
    ['alloc()', 'alloc() is not allowed in an expression the debugger evaluates'],
    ['read64(0x9000)', 'read at 0x9000 would fault'],
    ['z', "variable 'z' is read before its 'let' has run"],
    ['nothing + 1', "unknown name 'nothing'"],
    ['f(1)', "'f' is a proc; an expression cannot call a proc"],
    ['let y = 1', "expected an expression, found 'let'"],
    ['1 +', 'expected an expression, found end of line'],
    ['1 / 0', 'division by zero'],
    ['x', "unknown name 'x'"],
  ])('%s is an evaluation error', (source, message) => {
    const r = stopped();
    let error: unknown = null;
    try {
      r.interp.evaluate(source, 0, 0);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EvaluationError);
    expect((error as Error).message).toBe(message);
  });
});
