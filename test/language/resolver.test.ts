import { describe, expect, it } from 'vitest';
import { parseProgram } from '../../engine/language/program';
import { errors, load, src } from './helpers';

const D = 'domain web pv memory=16M';

/** Errors of a program whose one vCPU body is `lines`. */
function bodyErrors(...lines: string[]): string[] {
  return errors(src(D, 'vcpu web', ...lines, 'end'));
}

describe('Resolver names', () => {
  it('reports unknown variables, procs, functions and domains', () => {
    expect(bodyErrors('  let a = b + 1', '  call nope()', '  let c = frob(1)', '  let d = web')).toEqual([
      "3:11: unknown variable 'b'",
      "4:8: unknown proc 'nope'",
      "5:11: unknown function 'frob'",
      "6:11: unknown variable 'web' (a domain; its id is domid(web))",
    ]);
    expect(errors(src(D, 'vcpu mail', 'end'))).toEqual(["2:6: unknown domain 'mail'"]);
  });

  it('reports the wrong number of arguments to procs and built-ins', () => {
    expect(
      errors(
        src(
          D,
          'proc f(a, b)',
          'end',
          'vcpu web',
          '  call f(1)',
          '  let x = call f(1, 2, 3)',
          '  let y = va(1, 2, 3)',
          '  let z = alloc(1)',
          '  let w = mfn()',
          '  let v = pte_addr(1)',
          'end',
        ),
      ),
    ).toEqual([
      "5:8: proc 'f' takes 2 arguments, got 1",
      "6:16: proc 'f' takes 2 arguments, got 3",
      "7:11: 'va' takes 4 or 5 arguments, got 3",
      "8:11: 'alloc' takes no arguments, got 1",
      "9:11: 'mfn' takes 1 argument, got 0",
      "10:11: 'pte_addr' takes 2 arguments, got 1",
    ]);
  });

  it('accepts a proc called before its declaration and va with 4 or 5 arguments', () => {
    expect(
      errors(src(D, 'vcpu web', '  call g(va(1, 2, 3, 4), va(1, 2, 3, 4, 5))', 'end', 'proc g(a, b)', 'end')),
    ).toEqual([]);
  });

  it('reports a let of a name already declared in the frame, also across if branches', () => {
    expect(
      bodyErrors('  let a = 1', '  if a', '    let b = 1', '  else', '    let b = 2', '  end', '  let a = 3'),
    ).toEqual(["7:9: 'b' is already declared in this frame", "9:7: 'a' is already declared in this frame"]);
  });

  it('reports a use before the declaration in source order, even in a loop', () => {
    expect(bodyErrors('  while 1', '    print x', '    let x = 1', '  end', '  let y = y')).toEqual([
      "4:11: 'x' is used before its declaration on line 5",
      "7:11: 'y' is used before its declaration on line 7",
    ]);
  });

  it('separates frames: a proc sees only its parameters and its own lets', () => {
    expect(
      errors(src(D, 'proc f(p)', '  return p + q', 'end', 'vcpu web', '  let q = 1', '  call f(q)', 'end')),
    ).toEqual(["3:14: unknown variable 'q'"]);
  });

  it('declares X in a malformed let or for, so only the malformed line is reported', () => {
    expect(
      bodyErrors(
        '  let a = 1 +',
        '  print a',
        '  for i in 0..',
        '  end',
        '  print i',
        '  let c = call',
        '  print c',
      ),
    ).toEqual([
      '3:14: expected an expression, found end of line',
      '5:15: expected an expression, found end of line',
      '8:15: expected a proc name, found end of line',
    ]);
  });

  it('reports return outside a proc', () => {
    expect(bodyErrors('  return 1')).toEqual(["3:3: 'return' outside a proc"]);
  });

  it('reports assignments to registers, constants and consts', () => {
    expect(
      errors(src(D, 'const K = 1', 'vcpu web', '  rc = 1', '  P = 2', '  K = 3', '  undeclared = 4', 'end')),
    ).toEqual([
      "4:3: cannot assign to the register 'rc'",
      "5:3: cannot assign to the built-in constant 'P'",
      "6:3: cannot assign to the const 'K'",
      "7:3: unknown variable 'undeclared'",
    ]);
  });

  it('reports reserved words used as names', () => {
    expect(
      errors(
        src(
          'domain cr3 pv memory=4K',
          'const NX = 1',
          'proc read(fault)',
          '  let P = 1',
          'end',
          'vcpu cr3',
          'end',
        ),
      ),
    ).toEqual([
      "1:8: 'cr3' is a register and cannot name a domain",
      "2:7: 'NX' is a built-in constant and cannot name a const",
      "3:6: 'read' is a built-in function and cannot name a proc",
      "3:11: 'fault' is a register and cannot name a parameter",
      "4:7: 'P' is a built-in constant and cannot name a variable",
    ]);
  });

  it('allows contextual words and mmuext op names as names', () => {
    expect(
      bodyErrors(
        '  let pv = 1',
        '  let memory = 2',
        '  let kernel = 3',
        '  let foreign = 4',
        '  let pin_l1_table = 5',
        '  let l1 = 6',
      ),
    ).toEqual([]);
  });

  it('checks domid, foreign= and mmuext operations', () => {
    expect(
      bodyErrors(
        '  let a = domid(mail)',
        '  let b = domid(1)',
        '  mmu_update 1, 2 foreign=mail',
        '  mmuext pin_l5_table, 1',
        '  mmuext tlb_flush_local, 1',
        '  mmuext new_baseptr',
      ),
    ).toEqual([
      "3:17: unknown domain 'mail'",
      '4:17: domid takes a domain name',
      "5:27: unknown domain 'mail'",
      "6:10: unknown mmuext operation 'pin_l5_table'",
      // lines 7 and 8 are accepted: ARG is optional and defaults to 0 (xen-semantics.md §6)
    ]);
  });

  it('tells that a proc cannot be called in an expression', () => {
    expect(errors(src(D, 'proc f()', 'end', 'vcpu web', '  let x = f()', 'end'))).toEqual([
      "5:11: 'f' is a proc; call it with a 'call' statement",
    ]);
  });

  it('reports a malformed domain or proc header once, not again at each use', () => {
    expect(
      errors(
        src(
          'domain web pv vcpus=2',
          'proc f(a,',
          'end',
          'vcpu web.1',
          '  call f(1, 2, 3)',
          '  mmu_update 1, 2 foreign=web',
          '  let id = domid(web)',
          'end',
        ),
      ),
    ).toEqual(["1:22: domain 'web' needs memory=SIZE", '2:10: expected a parameter name, found end of line']);
  });

  it('names the declarations when a top-level line is none', () => {
    expect(errors(src('domian web pv memory=16M'))).toEqual([
      "1:1: expected a declaration (machine, domain, const, proc or vcpu), found 'domian'",
    ]);
  });

  it('rejects an expression with thousands of operators instead of overflowing the stack', () => {
    const long = Array.from({ length: 3000 }, () => '1').join(' + ');
    expect(bodyErrors(`  let x = ${long}`)).toEqual(['3:8013: expression too long']);
  });

  it('sorts diagnostics by line then column across stages', () => {
    const found = errors(src(D, 'vcpu web', '  let a = b + c', '  let q = 0x', '  let d = e', 'end'));
    expect(found).toEqual([
      "3:11: unknown variable 'b'",
      "3:15: unknown variable 'c'",
      "4:11: number '0x' has no digits after '0x'",
      "5:11: unknown variable 'e'",
    ]);
  });
});

describe('Resolver declarations', () => {
  it('reports vCPU numbers past the domain vcpus and a second block for one vCPU', () => {
    expect(
      errors(
        src(
          'domain a pv memory=4K vcpus=2',
          'vcpu a',
          'end',
          'vcpu a.1',
          'end',
          'vcpu a.2',
          'end',
          'vcpu a.0',
          'end',
        ),
      ),
    ).toEqual([
      "6:6: domain 'a' has 2 vCPUs, so vCPU 2 does not exist",
      '8:6: vCPU a.0 already has a block on line 2',
    ]);
  });

  it('reports duplicate domains, procs and consts and a second machine line', () => {
    expect(
      errors(
        src(
          'machine memory=1G',
          'machine memory=2G',
          D,
          D,
          'proc f()',
          'end',
          'proc f()',
          'end',
          'const K = 1',
          'const K = 2',
        ),
      ),
    ).toEqual([
      '2:1: the machine is already declared on line 1',
      "4:8: domain 'web' is already declared on line 3",
      "7:6: proc 'f' is already declared on line 5",
      "10:7: const 'K' is already declared on line 9",
    ]);
  });

  it('gives domains ids 1, 2, … in declaration order, and the declared details', () => {
    const p = load(
      src(
        'domain a pv memory=8M privileged',
        'domain b hvm memory=2M vcpus=3 paging=hap',
        'domain c hvm memory=4K',
      ),
    );
    expect(p.domains.map((d) => [d.name, d.id, d.kind, d.memory, d.vcpus, d.privileged, d.paging])).toEqual([
      ['a', 1, 'pv', 8n << 20n, 1, true, null],
      ['b', 2, 'hvm', 2n << 20n, 3, false, 'hap'],
      ['c', 3, 'hvm', 4096n, 1, false, 'shadow'],
    ]);
  });
});

describe('Resolver consts', () => {
  it('evaluates consts at load time with numbers, operators, constants, earlier consts and pure functions', () => {
    const p = load(
      src(
        'const BASE = va(256, 0, 0, 0)',
        'const SLOT = l4_index(BASE) + l3_index(BASE) + l2_index(BASE) + l1_index(BASE)',
        'const ENTRY = pte_addr(3, 2) | gpa(1) | P | RW',
        'const NEG = -EINVAL',
        'const TOP = BASE + 0x1000',
      ),
    );
    expect([...p.consts]).toEqual([
      ['BASE', 0xffff_8000_0000_0000n],
      ['SLOT', 256n],
      ['ENTRY', 0x3010n | 0x1000n | 3n],
      ['NEG', 0xffff_ffff_ffff_ffean],
      ['TOP', 0xffff_8000_0000_1000n],
    ]);
  });

  it('rejects variables, registers, alloc, reads, introspection and later consts', () => {
    expect(
      errors(
        src(
          'const AA = rc',
          'const B = alloc()',
          'const C = read64(0)',
          'const E = type_of(1)',
          'const F = G2 + 1',
          'const G2 = 1',
          'const H = nothing',
          'const I = domid(web)',
          D,
        ),
      ),
    ).toEqual([
      "1:12: a const cannot read the register 'rc'",
      "2:11: a const cannot call 'alloc' (only va, l1_index … l4_index, gpa and pte_addr)",
      "3:11: a const cannot call 'read64' (only va, l1_index … l4_index, gpa and pte_addr)",
      "4:11: a const cannot call 'type_of' (only va, l1_index … l4_index, gpa and pte_addr)",
      "5:11: const 'G2' is used before its declaration on line 6",
      "7:11: unknown name 'nothing' in a const expression",
      "8:11: a const cannot call 'domid' (only va, l1_index … l4_index, gpa and pte_addr)",
    ]);
  });

  it('reports an evaluation error of a const at load time', () => {
    expect(
      errors(src('const AA = 1 / 0', 'const B = va(512, 0, 0, 0)', 'const C = pte_addr(1, 600)')),
    ).toEqual([
      "1:12: const 'AA': division by zero",
      "2:11: const 'B': va: index 0x200 is above 0x1ff",
      "3:11: const 'C': pte_addr: index 0x258 is above 0x1ff",
    ]);
  });

  it('lets bodies use every const, and no variable take a const name', () => {
    expect(
      errors(src(D, 'vcpu web', '  let x = LATER', '  let LATER = 2', 'end', 'const LATER = 1')),
    ).toEqual(["4:7: 'LATER' is a const (line 6) and cannot name a variable"]);
  });
});

describe('Resolver machine memory', () => {
  it('rejects domains that need more frames than the machine has, at the machine line', () => {
    const { diagnostics } = parseProgram(
      src('machine memory=16M', 'domain a pv memory=8M', 'domain b hvm memory=12M'),
      'm.guest',
    );
    expect(diagnostics.map((d) => `${d.line}:${d.column}: ${d.message}`)).toEqual([
      '1:1: the domains need 5120 frames but machine memory has 4096',
    ]);
  });

  it('accepts domains that fit exactly and keeps the declared size', () => {
    const p = load(src('machine memory=16M', 'domain a pv memory=8M', 'domain b hvm memory=8M'));
    expect([p.machineMemory, p.poolMemory]).toEqual([16n << 20n, 16n << 20n]);
  });

  it('defaults the pool to the larger of 256M and the sum + 64M, rounded up to 2M', () => {
    expect(load(src('domain a pv memory=16M')).poolMemory).toBe(256n << 20n);
    expect(load(src('domain a pv memory=200M')).poolMemory).toBe(264n << 20n);
    expect(load(src('domain a pv memory=200M', 'domain b pv memory=4K')).poolMemory).toBe(266n << 20n);
    expect(load(src('domain a pv memory=16M')).machineMemory).toBeNull();
  });
});
