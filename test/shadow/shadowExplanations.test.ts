/**
 * hvm-paging.md §10 and events.md §5: every shadow trap carries one sentence `WHAT — CHAIN[: RESULT]`
 * with exactly one ` — `, naming the Xen function chain outermost first; the normative parts (the
 * place, the shadows made, the entries, the result) are checked for one program that logs every
 * class.
 */
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../engine/events/eventTypes';
import { SETUP, clean, kit, prog } from './ruleKit';

const BODY = [
  '    let x = read64(0)   ; @fixup',
  '    x = read64(0x5000)   ; @propagate',
  '    write 0x2008, gpa(3) | P | RW | US   ; @emulate',
  '    write 0x1000 + 8 * 20, 0   ; @unsync',
  '    invlpg 0   ; @invlpg',
  '    mov cr3, cr3   ; @resync',
  '    write 0x1000 + 8 * 12, 0x4000_0000 | P | RW | A | D',
  '    x = read64(0xc000)   ; @mmio',
  '    write 0x2048, 0',
  '    write 0x2048, 0   ; @unshadow',
];

function explanation(events: EngineEvent[], cls: string): string {
  const e = events.find((x) => x.class === cls) as { explanation?: string } | undefined;
  if (e?.explanation === undefined) throw new Error(`no ${cls} with an explanation`);
  return e.explanation;
}

describe('shadow explanations', () => {
  const k = kit(prog(BODY.join('\n'), undefined, SETUP));

  it('the program runs clean', () => clean(k));

  it('every trap event has one sentence with exactly one " — " and a chain', () => {
    for (const e of k.r.events) {
      if (
        ![
          'fixup',
          'propagate',
          'emulate',
          'resync',
          'unshadow',
          'invlpg',
          'mmio',
          'cr_write',
          'fault',
        ].includes(e.class)
      )
        continue;
      const text = (e as { explanation?: string }).explanation ?? '';
      expect(text.split(' — '), `${e.class}: ${text}`).toHaveLength(2);
      expect(text).not.toContain('\n');
    }
  });

  it('names the place, what was done and the chain of each class', () => {
    expect(explanation(k.at('@fixup'), 'fixup')).toBe(
      'read at 0x0 faulted in the shadow (shadow L4 entry 0 missing); guest tables allow it: made L3 of gfn 0x1, L2 of gfn 0x2, L1 of gfn 0x3, set A/D in 4 guest entries, shadow L1 entry 0 written — sh_page_fault → shadow_get_and_create_l1e → l1e_propagate_from_guest',
    );
    expect(explanation(k.at('@propagate'), 'propagate')).toBe(
      'read at 0x5000 faulted: L1 entry 5 of gfn 0x3 is not present — sh_page_fault → sh_walk_guest_tables → guest_walk_tables: #PF',
    );
    expect(explanation(k.at('@emulate'), 'emulate')).toBe(
      'write to gfn 0x2 trapped: it is shadowed as an L2; emulated and propagated to shadow L2 entry 1 — sh_page_fault → hvm_emulate_write → validate_gl2e',
    );
    expect(explanation(k.at('@unsync'), 'fixup')).toBe(
      'write to gfn 0x3 (an L1) put it out of sync; the write completes without emulation — sh_page_fault → sh_unsync',
    );
    expect(explanation(k.at('@invlpg'), 'invlpg')).toMatch(
      /^invlpg 0x0: L1 gfn 0x3 is out of sync, so its shadow entry 0 is cleared .* — sh_invlpg$/,
    );
    expect(explanation(k.at('@resync'), 'resync')).toMatch(
      /^out-of-sync L1 gfn 0x3 resynced on a CR3 write: .* — sh_update_cr3 → shadow_resync_current_vcpu → sh_resync → sh_resync_l1$/,
    );
    expect(explanation(k.at('@mmio'), 'mmio')).toBe(
      'read of 8 bytes at gpa 0x40000000 has no device: it reads all ones — sh_page_fault → handle_mmio_with_translation → hvmemul_do_io → null_read',
    );
    expect(explanation(k.at('@unshadow'), 'unshadow')).toBe(
      'second emulated zero write in a row to page table gfn 0x2: unshadowed (2 shadows removed: L2 of gfn 0x2, L1 of gfn 0x3) — sh_emulate_unmap_dest → check_for_early_unshadow → sh_remove_shadows',
    );
    expect(explanation(k.at('@propagate'), 'fault')).toMatch(/ — sh_page_fault → .*: #PF 0$/);
  });
});
