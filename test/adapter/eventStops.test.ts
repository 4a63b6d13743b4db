import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../engine/events/eventTypes';
import { errnoName, eventBindings, filterOf, statementNames, stopText } from '../../debug-adapter/eventStops';
import { parseHitCondition } from '../../debug-adapter/breakpoints';

const env = { step: 3, domain: 'pv', vcpu: 0, line: 7 };
const U64 = (1n << 64n) - 1n;

describe('event stops (events.md §6.1)', () => {
  it('maps classes to filters', () => {
    const pf = { ...env, class: 'fault', fault: 'PF', fault_addr: 0x1000n, fault_code: 2n, access: 'write', va: 0x1000n, cause: 'not_present', level: 1, entry: null, rule: 'R9.1' } as EngineEvent; // prettier-ignore
    expect(filterOf(pf)).toBe('page-fault');
    expect(filterOf({ ...pf, fault: 'GP' } as EngineEvent)).toBe('gp-fault');
    const ok = { ...env, class: 'hypercall_result', name: 'mmuext', op: 'pin_l1_table', rc: 0n, done: null, failed_index: null } as EngineEvent; // prettier-ignore
    expect(filterOf(ok)).toBeNull();
    expect(filterOf({ ...ok, rc: U64 - 15n } as EngineEvent)).toBe('hypercall-error');
    expect(filterOf({ ...env, class: 'tlb_flush', vcpus: [0], scope: 'all', va: null, cause: 'mov_cr3', mfn: null } as EngineEvent)).toBeNull(); // prettier-ignore
  });

  it('binds fields for conditions: integers, booleans, null as -1, fault and frame types as constants', () => {
    const pf = { ...env, class: 'fault', fault: 'PF', fault_addr: 0x1000n, fault_code: 2n, access: 'write', va: null, cause: 'not_present', level: 1, entry: null, rule: 'R9.1' } as EngineEvent; // prettier-ignore
    const b = eventBindings(pf);
    expect(b.get('fault')).toBe(14n);
    expect(b.get('fault_addr')).toBe(0x1000n);
    expect(b.get('va')).toBe(U64);
    expect(b.get('level')).toBe(1n);
    expect(b.has('access')).toBe(false);
    expect(b.has('cause')).toBe(false);
    const cr = { ...env, class: 'cr_write', reg: 3, old: 0n, value: 0x1000n, ok: true, intercepted: false, mode_change: false, shadow_made: null, tlb_flush: 'all' } as EngineEvent; // prettier-ignore
    expect([...eventBindings(cr)]).toEqual([
      ['reg', 3n],
      ['old', 0n],
      ['value', 0x1000n],
      ['ok', 1n],
      ['intercepted', 0n],
      ['mode_change', 0n],
      ['shadow_made', U64],
    ]);
    const tc = { ...env, class: 'type_change', mfn: 5, from: 'NONE', to: 'L1' } as EngineEvent;
    expect(eventBindings(tc).get('to')).toBe(1n);
  });

  it('says a refused hypercall in words, with the refusal explanation', () => {
    const result = { ...env, class: 'hypercall_result', name: 'mmu_update', op: null, rc: U64 - 15n, done: 0, failed_index: 0 } as EngineEvent; // prettier-ignore
    const refusal = { ...env, class: 'refusal', rule: 'R3.2', xen_function: 'get_page_type', rc: U64 - 15n, frame: null, entry: null, target: null, explanation: 'L1 entry 1 of mfn 0x1a2 would map mfn 0x1a3 writable' } as EngineEvent; // prettier-ignore
    expect(stopText(result, [refusal, result])).toBe(
      'mmu_update refused: -EBUSY — L1 entry 1 of mfn 0x1a2 would map mfn 0x1a3 writable',
    );
    expect(stopText({ ...result, op: 'pin_l2_table' } as EngineEvent, [])).toBe(
      'pin_l2_table refused: -EBUSY',
    );
    expect(errnoName(U64 - 21n)).toBe('-EINVAL');
  });

  it('finds hypercall and op names of a statement line', () => {
    expect(statementNames('    mmuext pin_l4_table, l4 ; pin it')).toEqual(['mmuext', 'pin_l4_table']);
    expect(statementNames('mmu_update pte, val')).toEqual(['mmu_update']);
    expect(statementNames('let x = 1')).toEqual([]);
  });

  it('parses hit conditions', () => {
    const at = (text: string) => [1, 2, 3, 4].filter(parseHitCondition(text) ?? (() => false));
    expect(at('3')).toEqual([3, 4]);
    expect(at('== 2')).toEqual([2]);
    expect(at('% 2')).toEqual([2, 4]);
    expect(at('< 3')).toEqual([1, 2]);
    expect(parseHitCondition('often')).toBeNull();
  });
});
