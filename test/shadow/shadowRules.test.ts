/**
 * Unit tests of the numbered rules of hvm-paging.md §1–§8 under shadow: each runs a small program
 * (audited after every statement) and asserts the shadow state and the exact events of a line.
 */
import { describe, expect, it } from 'vitest';
import { eventsAt, lineOf, runShadow, shadowModelOf } from './shadowHarness';

/** l4=0 l3=1 l2=2 l1=3 data=4; VA 0x0 → data, VA 0x1000 → l1, VA 0x2000 → l2. */
function prog(body: string, decl = 'domain g hvm memory=16M'): string {
  return `${decl}
vcpu g
    write pte_addr(0, 0), gpa(1) | P | RW | US
    write pte_addr(1, 0), gpa(2) | P | RW | US
    write pte_addr(2, 0), gpa(3) | P | RW | US
    write pte_addr(3, 0), gpa(4) | P | RW | US
    write pte_addr(3, 1), gpa(3) | P | RW | US
    write pte_addr(3, 2), gpa(2) | P | RW | US
    mov cr3, gpa(0)
    mov cr0, cr0 | PG | WP
${body}
end
`;
}

function run(body: string, decl?: string) {
  const src = prog(body, decl);
  const r = runShadow(src);
  return { r, src, at: (tag: string) => eventsAt(r, lineOf(src, tag)) };
}

describe('shadow rules', () => {
  it('R3.3: enabling paging makes, pins and loads the L4 shadow of CR3', () => {
    const { r, src } = run('    expect shadow_count() == 1 && shadowed(0)');
    const e = eventsAt(r, lineOf(src, 'mov cr0'));
    expect(e).toMatchObject([
      { class: 'cr_write', reg: 0, intercepted: true, mode_change: true, shadow_made: 0, tlb_flush: 'all' },
    ]);
    const sp = shadowModelOf(r.engine, 'g').ctx.hash.lookup(0, 'l4')!;
    expect(sp).toMatchObject({ pinned: true, refs: 2 });
    expect(r.stderr).toEqual([]);
  });

  it('R3.6/R4.3: a first read makes L3, L2, L1 shadows and sets A in every guest entry', () => {
    const { r, at } = run(
      '    let x = read64(0x0)   ; @read\n    expect shadow_count() == 4 && write_protected(3) && write_protected(2)',
    );
    expect(at('@read')).toMatchObject([
      {
        class: 'fixup',
        access: 'read',
        gfn: 4,
        made: [
          { type: 'l3', gfn: 1 },
          { type: 'l2', gfn: 2 },
          { type: 'l1', gfn: 3 },
        ],
        ad_set: [
          { level: 4, gfn: 0, index: 0, bits: 0x20n },
          { level: 3, gfn: 1, index: 0, bits: 0x20n },
          { level: 2, gfn: 2, index: 0, bits: 0x20n },
          { level: 1, gfn: 3, index: 0, bits: 0x20n },
        ],
        sl1_index: 0,
      },
    ]);
    expect(r.stderr).toEqual([]);
  });

  it('R4.2: a fault the guest tables forbid is propagate then fault, and changes nothing', () => {
    const { r, at } = run(
      '    let x = read64(0x5000)   ; @miss\n    expect fault == PF && fault_code == 0 && fault_addr == 0x5000 && shadow_count() == 1',
    );
    expect(at('@miss')).toMatchObject([
      { class: 'propagate', va: 0x5000n, error_code: 0n, level: 1, reason: 'not_present' },
      { class: 'fault', fault: 'PF', cause: 'not_present', rule: 'R4.2' },
    ]);
    expect(r.stderr).toEqual([]);
  });

  it('R3.9: an L3 PS entry is a reserved-bit fault under shadow', () => {
    const { r, at } = run(
      '    write 0x1038, gpa(1) | P | RW\n    write 0x7008, 0x4000_0000 | P | RW | PS\n    let x = read64(0x4000_0000)  ; @ps\n    expect guest_translate(0x4000_0000) == -1',
    );
    void at;
    expect(r.events.filter((e) => e.class === 'fault').at(-1)).toMatchObject({
      cause: 'reserved',
      fault_code: 0x9n,
    });
  });

  it('R5.2/R5.3: a kernel write to a shadowed L2 is emulated and validated (an L2 never goes out of sync)', () => {
    const { r, at } = run(
      '    let x = read64(0x0)\n    write 0x2008, gpa(3) | P | RW   ; @l2w\n    expect !out_of_sync(2) && shadowed(2)',
    );
    expect(at('@l2w')).toMatchObject([
      {
        class: 'emulate',
        gfn: 2,
        offset: 8,
        reason: 'pt_write',
        validated: [{ type: 'l2', index: 1 }],
        tlb_flush: false,
      },
    ]);
    const validated = (at('@l2w')[0] as { validated: { entry: bigint }[] }).validated[0].entry;
    expect(validated & 0x63n).toBe(0x62n); // names L1 gfn 3's shadow, P clear while the guest's A is clear
    expect(r.stderr).toEqual([]);
  });

  it('R6.1/R6.2: an L1 goes out of sync on its first write fault; a fourth frame evicts by resync', () => {
    const body = [
      '    for i in 0..8',
      '        write 0x1000 + 8 * (16 + i), gpa(10 + i) | P | RW',
      '    end',
      '    for i in 0..4',
      '        write pte_addr(10 + i, 0), gpa(4) | P | RW',
      '        write 0x1000 + 8 * (32 + i), gpa(10 + i) | P | RW',
      '    end',
      '    expect out_of_sync(3)',
    ].join('\n');
    const { r } = run(body);
    expect(r.events.some((e) => e.class === 'fixup' && e.flags.includes('unsync'))).toBe(true);
    expect(r.stderr).toEqual([]);
  });

  it('R7.2: a user-mode write to the L4 in use as CR3 crashes the domain', () => {
    const { r } = run(
      '    write 0x1028, gpa(0) | P | RW | US\n    mode user\n    write 0x5000, 0   ; @crash',
    );
    expect(r.stderr.join('\n')).toMatch(
      /runtime error: domain g crashed: user-mode write to page table gfn 0x0 in use as CR3/,
    );
    expect(r.engine.machine.domain('g')!.crashed).not.toBeNull();
  });

  it('R7.4: a misaligned emulated write unshadows its frame first', () => {
    const { at } = run(
      '    let x = read64(0x0)\n    write64 0x2004, 0   ; @mis\n    expect !shadowed(2) && shadowed(3)',
      'domain g hvm memory=16M vcpus=2',
    );
    expect(at('@mis').map((e) => e.class)).toEqual(['emulate', 'unshadow']);
    expect(at('@mis')[1]).toMatchObject({ reason: 'misaligned', gfn: 2 });
  });

  it('R1.4: enabling paging with CR3 naming memory that is not RAM crashes the domain', () => {
    const r = runShadow(
      'domain g hvm memory=16M\nvcpu g\n    mov cr3, 0x4000_0000\n    mov cr0, cr0 | PG\nend\n',
    );
    expect(r.stderr).toEqual(['test.guest:4:5: runtime error: domain g crashed: CR3 gfn 0x40000 is not RAM']);
  });

  it('R1.2/R3.8: paging off — unbacked reads give all ones, a fetch faults with PF_P|PF_I', () => {
    const r = runShadow(
      'domain g hvm memory=16M\nvcpu g\n    expect read64(0x4000_0000) == -1 && fault == NOFAULT\n    fetch 0x4000_0000\n    expect fault == PF && fault_code == (PF_P | PF_RSVD | PF_I)\nend\n',
    );
    expect(r.stderr).toEqual([]);
    expect(r.events.filter((e) => e.class === 'mmio').map((e) => e.fast)).toEqual([false, true]);
  });

  it('R8.3: translate gives the guest tables answer where no shadow is built', () => {
    const { r } = run(
      '    expect translate(0x0) != -1 && tlb_lookup(0x0) == -1 && guest_translate(0x0) == gpa(4)',
    );
    expect(r.stderr).toEqual([]);
  });

  it('checkpoints restore the shadow state exactly', () => {
    const src = prog(
      '    let x = read64(0x0)\n    write 0x1010, gpa(5) | P | RW\n    let y = read64(0x2000)',
    );
    const { engine } = runShadow(src, { maxSteps: 11 });
    const cp = engine.checkpoint();
    const before = JSON.stringify(shadowModelOf(engine, 'g').snapshot(), (_k, v) =>
      typeof v === 'bigint' ? String(v) : v instanceof Map ? [...v] : v,
    );
    while (!engine.finished) engine.step();
    engine.restore(cp);
    const after = JSON.stringify(shadowModelOf(engine, 'g').snapshot(), (_k, v) =>
      typeof v === 'bigint' ? String(v) : v instanceof Map ? [...v] : v,
    );
    expect(after).toBe(before);
  });
});
