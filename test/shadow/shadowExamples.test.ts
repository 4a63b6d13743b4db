/**
 * Every `examples/shadow-*.guest` runs to the end with all its `expect`s true, the shadow audit
 * clean after every statement, and the trap events its header promises at the tagged lines.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classesAt, lineOf, runShadow } from './shadowHarness';

const DIR = join(__dirname, '../../examples');
const files = readdirSync(DIR).filter((f) => f.startsWith('shadow-') && f.endsWith('.guest'));

function source(name: string): string {
  return readFileSync(join(DIR, name), 'utf8');
}

describe('shadow examples', () => {
  it('exist', () => expect(files.length).toBeGreaterThanOrEqual(6));
  for (const file of files) {
    it(`${file} runs clean with the audit after every statement`, () => {
      const run = runShadow(source(file));
      expect(run.stderr).toEqual([]);
      expect(run.engine.finished).toBe(true);
      expect(run.events.some((e) => e.class === 'expect_failed')).toBe(false);
    });
  }

  it('shadow-pte-write: the PTE write is emulated and validated into the shadow L1', () => {
    const src = source('shadow-pte-write.guest');
    const run = runShadow(src);
    expect(classesAt(run, lineOf(src, '@pte-write'))).toEqual(['emulate']);
  });

  it('shadow-vs-hap: the same write under HAP is a plain write', () => {
    const src = source('shadow-vs-hap.guest');
    const run = runShadow(src);
    expect(classesAt(run, lineOf(src, '@pte-write'))).toEqual(['entry_update']);
  });

  it('shadow-ordinary-write: one fixup, then no traps', () => {
    const src = source('shadow-ordinary-write.guest');
    const run = runShadow(src);
    expect(classesAt(run, lineOf(src, '@first-write'))).toEqual(['fixup']);
    expect(run.events.some((e) => e.class === 'emulate' && e.line > lineOf(src, '@first-write'))).toBe(false);
  });

  it('shadow-cr3-switch: CR3 writes are intercepted; the first switch to B makes its L4 shadow', () => {
    const src = source('shadow-cr3-switch.guest');
    const run = runShadow(src);
    const toB = run.events.find((e) => e.line === lineOf(src, '@to-b') && e.class === 'cr_write');
    const back = run.events.find((e) => e.line === lineOf(src, '@back-to-a') && e.class === 'cr_write');
    expect(toB).toMatchObject({ intercepted: true, shadow_made: 1, tlb_flush: 'all' });
    expect(back).toMatchObject({ intercepted: true, shadow_made: null });
  });

  it('shadow-out-of-sync: unsync, invlpg clearing the OOS entry, resync on CR3', () => {
    const src = source('shadow-out-of-sync.guest');
    const run = runShadow(src);
    expect(run.events.filter((e) => e.line === lineOf(src, '@unsync'))).toMatchObject([
      { class: 'fixup', flags: ['unsync'] },
    ]);
    expect(run.events.filter((e) => e.line === lineOf(src, '@invlpg'))).toMatchObject([
      { class: 'invlpg', oos_entry_cleared: true, full_flush: false },
    ]);
    expect(run.events.filter((e) => e.line === lineOf(src, '@resync'))).toMatchObject([
      { class: 'cr_write', reg: 3 },
      { class: 'resync', gfn: 3, trigger: 'cr3', entries: [2] },
    ]);
  });

  it('shadow-teardown: two zero writes unshadow early; a user-mode write unshadows', () => {
    const src = source('shadow-teardown.guest');
    const run = runShadow(src);
    expect(classesAt(run, lineOf(src, '@zero1'))).toEqual(['emulate']);
    expect(run.events.filter((e) => e.line === lineOf(src, '@zero2'))).toMatchObject([
      { class: 'emulate', validated: [] },
      { class: 'unshadow', gfn: 3, reason: 'early', removed: [{ type: 'l1', gfn: 3 }] },
    ]);
    expect(run.events.filter((e) => e.line === lineOf(src, '@user-write'))).toMatchObject([
      { class: 'unshadow', reason: 'user_mode' },
      { class: 'fixup', cpl: 3 },
    ]);
  });
});
