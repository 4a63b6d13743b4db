import { describe, expect, it } from 'vitest';
import { run, src, start } from './helpers';

const A = 'domain a pv memory=16M vcpus=2';
const B = 'domain b hvm memory=16M';

/** `step:vcpu:line` of every step the host saw. */
function trace(r: ReturnType<typeof run>): string[] {
  return r.host.steps.map((s) => `${s.step}:${s.vcpu}:${s.line}`);
}

describe('Interpreter steps and scheduling', () => {
  it('numbers steps globally and gives each unfinished vCPU one step per round, in block order', () => {
    const r = run(
      src(
        A, //                    1
        B, //                    2
        'vcpu a.1', //           3
        '  print 1', //          4
        '  print 2', //          5
        'end', //                6
        'vcpu b', //             7
        '  print 3', //          8
        'end', //                9
        'vcpu a', //             10
        '  print 4', //          11
        '  print 5', //          12
        '  print 6', //          13
        'end',
      ),
    );
    expect(trace(r)).toEqual(['1:a.1:4', '2:b.0:8', '3:a.0:11', '4:a.1:5', '5:a.0:12', '6:a.0:13']);
    expect(r.output).toEqual(['0x1', '0x3', '0x4', '0x2', '0x5', '0x6']);
    expect(r.outcomes.map((o) => o.kind)).toEqual(['ran', 'finished', 'ran', 'finished', 'ran', 'finished']);
    expect(r.outcomes.map((o) => o.runEnded)).toEqual([false, false, false, false, false, true]);
    expect(r.interp.stepCount).toBe(6);
    expect(r.interp.threads().map((t) => [t.name, t.state])).toEqual([
      ['a.vcpu1', 'finished'],
      ['b.vcpu0', 'finished'],
      ['a.vcpu0', 'finished'],
    ]);
  });

  it('an empty block is finished before any step', () => {
    const r = run(src(A, 'vcpu a', 'end', 'vcpu a.1', '  halt', 'end'));
    expect(trace(r)).toEqual(['1:a.1:5']);
    expect(r.outcomes[0].kind).toBe('halted');
    expect(r.host.vcpus.get('a.1')?.halted).toBe(true);
  });

  it('halt stops only its vCPU', () => {
    const r = run(
      src(A, 'vcpu a', '  halt', '  print 1', 'end', 'vcpu a.1', '  print 2', '  print 3', 'end'),
    );
    expect(r.output).toEqual(['0x2', '0x3']);
    expect(r.interp.threads().map((t) => t.state)).toEqual(['halted', 'finished']);
  });

  it('counts if tests as steps and never else or end lines', () => {
    const file = src(
      A,
      'vcpu a', //        2
      '  let x = 0', //   3
      '  if x', //        4
      '    print 1', //   5
      '  else', //        6
      '    print 2', //   7
      '  end', //         8
      '  if x == 0', //   9
      '    print 3', //   10
      '  else if 1', //   11
      '    print 4', //   12
      '  end', //         13
      '  end', //         14
      'end',
    );
    const r = run(file);
    expect(trace(r)).toEqual(['1:a.0:3', '2:a.0:4', '3:a.0:7', '4:a.0:9', '5:a.0:10']);
    expect(r.interp.program.stepLines).toEqual([3, 4, 5, 7, 9, 10, 11, 12]);
    const r2 = run(file.replace('let x = 0', 'let x = 2'));
    expect(trace(r2)).toEqual(['1:a.0:3', '2:a.0:4', '3:a.0:5', '4:a.0:9', '5:a.0:11', '6:a.0:12']);
  });

  it('tests a while condition once per iteration, on its line', () => {
    const r = run(src(A, 'vcpu a', '  let n = 2', '  while n', '    n = n - 1', '  end', 'end'));
    expect(trace(r).map((t) => t.split(':')[2])).toEqual(['3', '4', '5', '4', '5', '4']);
  });
});

describe('Interpreter for loops', () => {
  it('evaluates A and B once, and each later iteration advances and tests on the for line', () => {
    const r = run(
      src(
        A,
        'vcpu a',
        '  let n = 3',
        '  for i in 1..n',
        '    n = 10',
        '    print i',
        '  end',
        '  print i, n',
        'end',
      ),
    );
    expect(r.output).toEqual(['0x1', '0x2', '0x2 0xa']);
    expect(trace(r).map((t) => t.split(':')[2])).toEqual(['3', '4', '5', '6', '4', '5', '6', '4', '8']);
  });

  it('keeps its own counter when the body assigns X, and X keeps its last value', () => {
    const r = run(
      src(A, 'vcpu a', '  for i in 0..3', '    print i', '    i = i + 100', '  end', '  print i', 'end'),
    );
    expect(r.output).toEqual(['0x0', '0x1', '0x2', '0x66']);
  });

  it('leaves X as B-1 after a loop whose body does not assign it', () => {
    const r = run(src(A, 'vcpu a', '  for i in 5..8', '  end', '  print i', 'end'));
    expect(r.output).toEqual(['0x7']);
    expect(trace(r).map((t) => t.split(':')[2])).toEqual(['3', '3', '3', '3', '5']);
  });

  it('runs no iteration when A >= B and leaves an existing X unchanged', () => {
    const r = run(
      src(
        A,
        'vcpu a',
        '  let i = 42',
        '  for i in 5..5',
        '    print 1',
        '  end',
        '  for i in 9..2',
        '  end',
        '  print i',
        'end',
      ),
    );
    expect(r.output).toEqual(['0x2a']);
  });

  it('a loop that never ran leaves its new X unset, so reading it is a run-time error', () => {
    const r = run(src(A, 'vcpu a', '  for i in 1..0', '  end', '  print i', 'end'));
    expect(r.outcomes.at(-1)?.error?.message).toBe("variable 'i' is read before its 'let' has run");
  });

  it('compares the bounds unsigned', () => {
    const r = run(
      src(A, 'vcpu a', '  let n = 0', '  for i in -2..-1', '    n = n + 1', '  end', '  print n, i', 'end'),
    );
    expect(r.output).toEqual(['0x1 0xfffffffffffffffe']);
  });
});

describe('Interpreter procs', () => {
  it('a return step assigns the caller let X = call', () => {
    const r = run(
      src(
        A,
        'proc add(x, y)', //  2
        '  let s = x + y', // 3
        '  return s', //      4
        'end', //             5
        'vcpu a', //          6
        '  let z = call add(2, 3)', // 7
        '  z = call add(z, 1)', //     8
        '  print z', //                9
        'end',
      ),
    );
    expect(trace(r).map((t) => t.split(':')[2])).toEqual(['7', '3', '4', '8', '3', '4', '9']);
    expect(r.output).toEqual(['0x6']);
  });

  it('falling off the end of a proc returns 0 within the step of its last line', () => {
    const r = start(
      src(A, 'proc f()', '  print 1', 'end', 'vcpu a', '  let x = 7', '  x = call f()', '  print x', 'end'),
    );
    const lines = [r.interp.step(), r.interp.step(), r.interp.step()].map((o) => o.line);
    expect(lines).toEqual([6, 7, 3]);
    // After the proc's last line the caller is back, with x assigned, and its next line is next.
    const [frame] = r.interp.frames(0);
    expect(frame.name).toBe('vcpu a.0');
    expect(frame.variables).toEqual([{ name: 'x', value: 0n }]);
    expect(r.interp.peekNext()).toEqual({ thread: 0, line: 8, column: 3 });
  });

  it('an empty proc returns 0 within the call step', () => {
    const r = run(src(A, 'proc f()', 'end', 'vcpu a', '  let x = call f()', '  print x', 'end'));
    expect(trace(r).map((t) => t.split(':')[2])).toEqual(['5', '6']);
    expect(r.output).toEqual(['0x0']);
  });

  it('a proc runs on the calling vCPU and shares its registers and mode', () => {
    const r = run(
      src(
        A,
        'proc f()',
        '  mode user',
        '  write 0x10, 1',
        'end',
        'vcpu a',
        '  call f()',
        '  print fault',
        'end',
      ),
    );
    expect(r.host.calls).toEqual(['a.0 mode user', 'a.0 write64 0x10 0x1']);
    expect(r.host.vcpus.get('a.0')?.mode).toBe('user');
  });

  it('allows recursion up to 1024 frames, the vcpu frame included', () => {
    const file = (n: number) =>
      src(
        A,
        'proc down(n)',
        '  if n',
        '    call down(n - 1)',
        '  end',
        'end',
        'vcpu a',
        `  call down(${n})`,
        '  print 1',
        'end',
      );
    const ok = run(file(1022));
    expect(ok.output).toEqual(['0x1']);
    const deep = start(file(1023));
    let outcome = deep.interp.step();
    while (outcome.kind === 'ran') outcome = deep.interp.step();
    expect(outcome.kind).toBe('error');
    expect(outcome.error).toMatchObject({
      line: 4,
      column: 5,
      message: 'call depth exceeded (more than 1024 frames)',
    });
    expect(deep.interp.frames(0)).toHaveLength(1024);
  });

  it('shows frames innermost first, with the call positions and unset variables', () => {
    const r = start(
      src(
        A,
        'proc g(p)',
        '  let q = p * 2',
        '  let r = q',
        'end',
        'vcpu a',
        '  let before = 1',
        '  call g(5)',
        '  let after = 2',
        'end',
      ),
    );
    r.interp.step();
    r.interp.step();
    r.interp.step();
    expect(r.interp.frames(0)).toEqual([
      {
        name: 'g',
        kind: 'proc',
        line: 4,
        column: 3,
        variables: [
          { name: 'p', value: 5n },
          { name: 'q', value: 10n },
          { name: 'r', value: undefined },
        ],
      },
      {
        name: 'vcpu a.0',
        kind: 'vcpu',
        line: 8,
        column: 3,
        variables: [
          { name: 'before', value: 1n },
          { name: 'after', value: undefined },
        ],
      },
    ]);
  });
});
