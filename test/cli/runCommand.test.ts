import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main';

function runCli(args: string[]): { code: number; stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = main(args, { stdout: (l) => stdout.push(l), stderr: (l) => stderr.push(l) });
  return { code, stdout, stderr };
}

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'pagewalk-cli-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const HAP = 'domain vm hvm memory=16M paging=hap\n';

describe('pagewalk run', () => {
  it('prints every syntax error with its position and exits 2', () => {
    const path = file('three.guest', HAP + 'vcpu vm\n    let a = 1 +\n    let = 3\n    print (1\nend\n');
    const r = runCli(['run', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toHaveLength(3);
    expect(r.stderr[0]).toBe(`${path}:3:16: error: ` + r.stderr[0].split(': error: ')[1]);
    expect(
      r.stderr.map((l) =>
        l
          .slice(path.length + 1)
          .split(':')
          .slice(0, 2)
          .join(':'),
      ),
    ).toEqual(['3:16', '4:9', '5:13']);
  });

  it('exits 0 and prints print lines in hex when every expect holds', () => {
    const r = runCli([
      'run',
      file('ok.guest', HAP + 'vcpu vm\n    print "x", 10, -EINVAL\n    expect 1\nend\n'),
    ]);
    expect(r).toEqual({ code: 0, stdout: ['x 0xa 0xffffffffffffffea'], stderr: [] });
  });

  it('reports a failed expect with the names it uses and exits 1', () => {
    const path = file(
      'fail.guest',
      HAP + 'vcpu vm\n    let x = 2\n    expect x == 3 && fault == NOFAULT, "oops" ; c\nend\n',
    );
    const r = runCli(['run', path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toEqual([
      `${path}:4:5: expectation failed: x == 3 && fault == NOFAULT \u2014 oops`,
      '  x = 0x2',
      '  fault = NOFAULT',
    ]);
  });

  it('stops at the step limit with exit 3 at the statement that would have run', () => {
    const path = file('loop.guest', HAP + 'vcpu vm\n    while 1\n        let y = 1\n    end\nend\n');
    const r = runCli(['run', path, '--max-steps', '5']);
    expect(r.code).toBe(3);
    expect(r.stderr).toEqual([`${path}:4:9: runtime error: step limit 5 reached`]); // step 6 would be the let
  });

  it('--json prints one object with status, steps, events and domains', () => {
    const path = file('json.guest', HAP + 'vcpu vm\n    mov cr3, 0x5000\n    print 1\nend\n');
    const r = runCli(['run', path, '--json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toHaveLength(1);
    const out = JSON.parse(r.stdout[0]);
    expect(out.status).toBe('ok');
    expect(out.steps).toBe(2);
    expect(out.output).toEqual(['0x1']);
    expect(out.events[0]).toMatchObject({
      step: 1,
      domain: 'vm',
      vcpu: 0,
      line: 3,
      class: 'cr_write',
      reg: 3,
      value: '0x5000',
    });
    expect(out.domains[0]).toMatchObject({ name: 'vm', id: 1, kind: 'hvm-hap', memory: 16 * 1024 * 1024 });
    expect(out.domains[0].vcpus[0]).toMatchObject({
      index: 0,
      mode: 'kernel',
      cr3: '0x5000',
      fault: 'NOFAULT',
    });
  });

  it('--trace prints events and print lines interleaved in step order', () => {
    const path = file('trace.guest', HAP + 'vcpu vm\n    print 1\n    mov cr3, 0x1000\n    print 2\nend\n');
    const r = runCli(['run', path, '--trace']);
    expect(r.stdout[0]).toBe('0x1');
    expect(r.stdout[1]).toMatch(/^2 vm\.vcpu0 4 cr_write \{"reg":3,.*\} \u2014 mov cr3, 0x1000/);
    expect(r.stdout[2]).toMatch(/^2 vm\.vcpu0 4 tlb_flush /);
    expect(r.stdout[3]).toBe('0x2');
  });

  it('rejects a file it cannot read, with a JSON status when asked', () => {
    const r = runCli(['run', join(dir, 'missing.guest'), '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr[0]).toMatch(/^pagewalk: error: cannot read /);
    expect(JSON.parse(r.stdout[0]).status).toBe('rejected');
  });

  it('exits 2 on command-line misuse', () => {
    expect(runCli(['run']).code).toBe(2);
    expect(runCli(['run', 'x.guest', '--bogus']).stderr).toEqual([
      "pagewalk: error: unknown option '--bogus' for run",
    ]);
    expect(runCli(['run', 'x.guest', '--max-steps']).code).toBe(2);
    expect(runCli(['frobnicate']).code).toBe(2);
  });

  it('answers --version and --help', () => {
    expect(runCli(['--version']).code).toBe(0);
    expect(runCli(['--help']).stdout.join('\n')).toContain('pagewalk run FILE.guest');
    expect(runCli(['run', '--help']).stdout.join('\n')).toContain('--max-steps');
  });
});
