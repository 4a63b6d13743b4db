// HAP (hvm-paging.md §1, §2, §9, §10): the two-dimensional walk, EPT violations on unbacked memory,
// the VMX intercept rules for CR writes, and the events each statement logs, in order.
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../engine/engine';
import { loadEngine } from '../../engine/engine';
import type { EngineEvent } from '../../engine/events/eventTypes';

function run(body: string, memory = '16M'): Engine {
  const source = `domain vm hvm memory=${memory} paging=hap\nvcpu vm\n${body}\nend\n`;
  const { engine, diagnostics } = loadEngine(source, 't.guest');
  expect(diagnostics).toEqual([]);
  while (!engine!.finished) {
    const o = engine!.step();
    if (o.expectFailure !== null) throw new Error(`expect failed at line ${o.line}: ${o.expectFailure.text}`);
    if (o.error !== null) throw new Error(o.error.message);
  }
  return engine!;
}

function eventsOfLine(engine: Engine, line: number): EngineEvent[] {
  return engine.events.filter((e) => e.line === line);
}

const SETUP = `
    let l4 = alloc()
    let l3 = alloc()
    let l2 = alloc()
    let l1 = alloc()
    write pte_addr(l4, 0), gpa(l3) | P | RW | US
    write pte_addr(l3, 0), gpa(l2) | P | RW | US
    write pte_addr(l2, 0), 0 | P | RW | US | PS
    write pte_addr(l2, 2), gpa(l1) | P | RW | US
    mov cr3, gpa(l4)
    mov cr0, cr0 | PG`;
// SETUP occupies lines 3..13 of the file; the first line after it is 14.
const AFTER = 14;

describe('HAP paging', () => {
  it('starts as a boot loader leaves the vCPU: CR0=PE|ET, CR4=PAE, paging off', () => {
    const e = run(
      '    expect cr0 == 0x11 && cr4 == 0x20 && cr3 == 0\n    expect translate(0x1000) == translate(0x1000)',
    );
    expect(e.machine.domains[0].kind).toBe('hvm-hap');
  });

  it('with paging off, addresses are guest-physical and unbacked ones read all ones (R1.2, R1.5)', () => {
    const e = run(
      '    write 0x2000, 7\n    expect read64(0x2000) == 7\n    expect read32(0x1000_0000) == 0xffff_ffff && fault == NOFAULT',
      '16M',
    );
    const classes = eventsOfLine(e, 5).map((x) => x.class);
    expect(classes).toEqual(['npf', 'mmio']);
    const npf = eventsOfLine(e, 5)[0] as EngineEvent & { class: 'npf' };
    expect(npf).toMatchObject({ gla: null, gpa: 0x1000_0000n, kind: 'final', access: 'read' });
    expect(e.machine.vcpu('vm', 0).callBuiltin('tlb_lookup', [0x2000n], false)).toBe(0xffff_ffff_ffff_ffffn);
  });

  it('CR3 writes are never intercepted; CR0 writes only when the value changes (R2.1)', () => {
    const e = run(`${SETUP}\n    mov cr0, cr0\n    mov cr3, cr3`);
    const crs = e.events.filter((x) => x.class === 'cr_write') as (EngineEvent & { class: 'cr_write' })[];
    expect(crs.map((c) => [c.reg, c.intercepted, c.mode_change, c.tlb_flush])).toEqual([
      [3, false, false, 'all'],
      [0, true, true, 'all'],
      [0, false, false, 'none'],
      [3, false, false, 'all'],
    ]);
  });

  it('a CR4.PGE change is performed by the hardware and flushes everything (R2.1, R2.2)', () => {
    const e = run(`${SETUP}\n    mov cr4, cr4 | PGE\n    mov cr4, cr4 | PAE`);
    const [pge] = eventsOfLine(e, AFTER);
    expect(pge).toMatchObject({ class: 'cr_write', intercepted: false, mode_change: true, tlb_flush: 'all' });
    expect(eventsOfLine(e, AFTER)[1]).toMatchObject({
      class: 'tlb_flush',
      scope: 'all',
      cause: 'paging_mode',
    });
  });

  it('refuses PG without PAE, and bits 63:32 of CR0, with #GP (R2.5)', () => {
    const e = run(
      `    mov cr4, 0\n    mov cr0, cr0 | PG\n    expect fault == GP && (cr0 & PG) == 0\n    mov cr4, PAE\n    mov cr0, 1 << 32 | cr0\n    expect fault == GP`,
    );
    const refused = e.events.filter((x) => x.class === 'cr_write' && !x.ok);
    expect(refused).toHaveLength(2);
    expect(eventsOfLine(e, 4).map((x) => x.class)).toEqual(['cr_write', 'fault']);
    expect(eventsOfLine(e, 4)[1]).toMatchObject({ fault: 'GP', cause: 'cr_check', rule: 'R2.5' });
  });

  it('sets an invalid CR4 bit → #GP; clearing PAE with paging on → #GP', () => {
    run(
      `${SETUP}\n    mov cr4, cr4 | (1 << 13)\n    expect fault == GP\n    mov cr4, cr4 & ~PAE\n    expect fault == GP && (cr4 & PAE) == PAE`,
    );
  });

  it('a table in unbacked memory is an EPT violation, then #PF with P clear (R1.3)', () => {
    const e = run(
      `${SETUP}\n    write pte_addr(l1, 5), 0x4000_0000 | P | RW\n    write pte_addr(l2, 3), 0x4000_0000 | P | RW\n    let v = read64(0x60_0000)\n    expect fault == PF && fault_code == 0 && fault_addr == 0x60_0000`,
    );
    const line = AFTER + 2;
    expect(eventsOfLine(e, line).map((x) => x.class)).toEqual(['npf', 'fault']);
    expect(eventsOfLine(e, line)[0]).toMatchObject({ kind: 'table', gpa: 0x4000_0000n, gla: 0x60_0000n });
    expect(eventsOfLine(e, line)[1]).toMatchObject({ cause: 'unbacked_table', level: 1 });
  });

  it('the final address unbacked: npf then mmio; a fetch is #GP after the mmio event (R1.2, R9.1)', () => {
    const e = run(
      `${SETUP}\n    write pte_addr(l1, 0), 0x4000_0000 | P | RW\n    write 0x40_0000, 5\n    fetch 0x40_0000\n    expect fault == GP`,
    );
    expect(eventsOfLine(e, AFTER + 1).map((x) => x.class)).toEqual(['npf', 'mmio']);
    expect(eventsOfLine(e, AFTER + 1)[1]).toMatchObject({ dir: 'write', value: 5n, size: 8, fast: false });
    expect(eventsOfLine(e, AFTER + 2).map((x) => x.class)).toEqual(['npf', 'mmio', 'fault']);
    // the walk succeeded, so it set A in the leaf even though the access failed
    expect(e.machine.vcpu('vm', 0).callBuiltin('read64', [0x3000n], false) & 0x20n).toBe(0x20n);
  });

  it('logs entry_update for a write to a table reachable from CR3, with its level (R9.2)', () => {
    const e = run(
      `${SETUP}\n    write pte_addr(l1, 7), gpa(9) | P\n    write pte_addr(l2, 9), 0\n    write gpa(20), 5`,
    );
    expect(eventsOfLine(e, AFTER)).toEqual([
      expect.objectContaining({
        class: 'entry_update',
        gfn: 3,
        level: 1,
        index: 7,
        old: 0n,
        new: 0x9001n,
        path: 'plain_write',
      }),
    ]);
    expect(eventsOfLine(e, AFTER + 1)).toEqual([]); // unchanged slot: no event
    expect(eventsOfLine(e, AFTER + 2)).toEqual([]); // not a table
  });

  it('a write to a frame that stopped being reachable logs nothing', () => {
    const e = run(`${SETUP}\n    write pte_addr(l2, 2), 0\n    write pte_addr(l1, 1), 0x1003`);
    expect(eventsOfLine(e, AFTER)).toEqual([
      expect.objectContaining({ class: 'entry_update', gfn: 2, level: 2, index: 2 }),
    ]);
    expect(eventsOfLine(e, AFTER + 1)).toEqual([]);
  });

  it('non-canonical addresses raise #GP(0) and leave fault_addr alone (R4.1)', () => {
    const e = run(
      `${SETUP}\n    let x = read64(0x40_0008)\n    let y = read64(0x8000_0000_0000)\n    expect fault == GP && fault_code == 0 && fault_addr == 0x40_0008`,
    );
    expect(eventsOfLine(e, AFTER + 1)).toEqual([
      expect.objectContaining({ class: 'fault', fault: 'GP', cause: 'non_canonical' }),
    ]);
  });

  it('an access spanning two pages faults on the second with its first byte, writing nothing', () => {
    const e = run(
      `${SETUP}\n    write pte_addr(l1, 0), gpa(30) | P | RW | US\n    write 0x40_0ffc, 0x1122_3344_5566_7788\n    expect fault == PF && fault_addr == 0x40_1000 && fault_code == (PF_W)\n    expect read32(0x40_0ffc) == 0`,
    );
    expect(e.stepCount).toBeGreaterThan(0);
  });

  it('HVM hypercalls: -ENOSYS, pin accepted, -EOPNOTSUPP, -EPERM in user mode; done untouched', () => {
    run(
      `    mmu_update 0, 0\n    expect rc == -ENOSYS && done == 0\n    mmuext pin_l1_table, 1\n    expect rc == 0\n    mmuext new_baseptr, 1\n    expect rc == -EOPNOTSUPP\n    update_va_mapping 0, 0, 0\n    expect rc == -ENOSYS\n    mode user\n    mmuext pin_l1_table, 1\n    expect rc == -EPERM`,
    );
  });

  it('a 64 GiB domain costs nothing until touched', () => {
    const e = run('    write 0x10_0000_0000 - 8, 1\n    expect read64(0x10_0000_0000 - 8) == 1', '64G');
    expect(e.machine.memory.touchedCount).toBeLessThan(20);
    expect(e.machine.domains[0].frames).toBe(16 * 1024 * 1024);
  });
});
