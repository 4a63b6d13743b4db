/**
 * Property: for random guest programs — page-table builds, writes to tables and data (kernel and
 * user mode, aligned and not), CR3 switches between two address spaces, invlpg — the shadow audit
 * finds no disagreement after any statement, and the model's answers match the guest's tables
 * wherever the shadows are not allowed to be stale.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runShadow } from './shadowHarness';

// gfns 0..1: two L4s; 2: L3; 3: L2; 4..5: L1s; 6..9: data. Every table is mapped at VA
// 0x1000 * gfn through L1 gfn 4 (entries 0..9), so the guest can write any of them.
const HEADER = `
domain g hvm memory=16M VCPUS
vcpu g
    write pte_addr(0, 0), gpa(2) | P | RW | US
    write pte_addr(1, 0), gpa(2) | P | RW | US
    write pte_addr(2, 0), gpa(3) | P | RW | US
    write pte_addr(3, 0), gpa(4) | P | RW | US
    write pte_addr(3, 1), gpa(5) | P | RW | US
    for i in 0..10
        write pte_addr(4, i), gpa(i) | P | RW | US
    end
    mov cr3, gpa(0)
    mov cr0, cr0 | PG | WP
`;

const op = fc.oneof(
  // write an entry of a table: target a table or a data frame, random flags
  fc.record({
    kind: fc.constant('pte' as const),
    table: fc.integer({ min: 0, max: 5 }),
    index: fc.integer({ min: 0, max: 11 }),
    target: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.constant(5000)),
    flags: fc.constantFrom(
      'P | RW | US',
      'P | US',
      'P | RW | US | A | D',
      '0',
      'P | RW | US | PS',
      'P | RW | US | NX',
    ),
  }),
  fc.record({
    kind: fc.constant('data' as const),
    frame: fc.integer({ min: 0, max: 9 }),
    offset: fc.integer({ min: 0, max: 0xff8 }),
  }),
  fc.record({ kind: fc.constant('read' as const), page: fc.integer({ min: 0, max: 600 }) }),
  fc.record({ kind: fc.constant('cr3' as const), l4: fc.integer({ min: 0, max: 1 }) }),
  fc.record({ kind: fc.constant('invlpg' as const), page: fc.integer({ min: 0, max: 600 }) }),
  fc.record({ kind: fc.constant('user' as const), frame: fc.integer({ min: 6, max: 9 }) }),
);

type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

function line(o: Op): string {
  switch (o.kind) {
    case 'pte':
      return `    write 0x1000 * ${o.table} + ${o.index * 8}, gpa(${o.target}) | ${o.flags}`;
    case 'data':
      return `    write 0x1000 * ${o.frame} + ${o.offset}, 0`;
    case 'read':
      return `    print read64(0x1000 * ${o.page})`;
    case 'cr3':
      return `    mov cr3, gpa(${o.l4})`;
    case 'invlpg':
      return `    invlpg 0x1000 * ${o.page}`;
    case 'user':
      return `    mode user\n    write 0x1000 * ${o.frame} + 16, 7\n    mode kernel`;
  }
}

const seen = new Set<string>();

describe('shadow audit over random guest programs', () => {
  for (const vcpus of ['vcpus=1', 'vcpus=2']) {
    it(`holds after every statement (${vcpus})`, () => {
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => {
          const source = HEADER.replace('VCPUS', vcpus) + ops.map(line).join('\n') + '\nend\n';
          const run = runShadow(source);
          // A user-mode write on its own walk path is a runtime error the model reports (R7.2).
          for (const err of run.stderr) expect(err).toMatch(/own walk path|crashed: user-mode write/);
          for (const e of run.events)
            seen.add(
              e.class === 'resync'
                ? `resync:${e.trigger}`
                : e.class === 'unshadow'
                  ? `unshadow:${e.reason}`
                  : e.class,
            );
        }),
        { numRuns: 150, seed: vcpus === 'vcpus=1' ? 4 : 7 },
      );
    });
  }
  it('holds after every statement with two vCPUs running (OOS frames of one seen by the other)', () => {
    // vCPU 1 waits for vCPU 0's tables, then runs on the other address space (L4 gfn 1), so L1s go
    // out of sync on either vCPU and CR3 writes update the other vCPU's (shadow_sync_other_vcpus).
    const second = fc.array(op, { minLength: 1, maxLength: 25 });
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 25 }), second, (ops0, ops1) => {
        const source =
          HEADER.replace('VCPUS', 'vcpus=2') +
          ops0.map(line).join('\n') +
          '\nend\nvcpu g.1\n    for i in 0..30\n    end\n    mov cr3, gpa(1)\n    mov cr0, cr0 | PG | WP\n' +
          ops1.map(line).join('\n') +
          '\nend\n';
        const run = runShadow(source);
        for (const err of run.stderr) expect(err).toMatch(/own walk path|crashed: user-mode write/);
        for (const e of run.events)
          if (e.class === 'resync' && e.explanation?.includes('shadow_sync_other_vcpus') === true)
            seen.add('resync:other_vcpu');
      }),
      { numRuns: 100, seed: 11 },
    );
    expect(seen).toContain('resync:other_vcpu');
  });

  it('exercise the traps they are meant to', () => {
    for (const c of [
      'fixup',
      'emulate',
      'propagate',
      'resync:cr3',
      'unshadow:user_mode',
      'invlpg',
      'cr_write',
      'mmio',
    ]) {
      expect(seen, c).toContain(c);
    }
  });
});
