/**
 * Every exception filter, each with a condition, over the real adapter. For each filter a program
 * that logs such events (the fixtures, then the examples) is first run in-process; the condition
 * names the fields events.md §6.1 lists for the filter, with the values of the *last* such event,
 * so it must skip the earlier ones. The adapter must stop at the first event matching them — after
 * its step, with the §6.1 text — and `exceptionInfo` must give its fields and explanation.
 * `expect-failed` and `invariant` take conditions of their own (a variable; a debugger poke).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadEngine } from '../../engine/engine';
import type { Engine } from '../../engine/engine';
import { toJsonValue } from '../../engine/events/eventJson';
import type { EngineEvent } from '../../engine/events/eventTypes';
import { formatValue } from '../../engine/language';
import { eventBindings, filterOf, stopText } from '../../debug-adapter/eventStops';
import type { ExceptionFilterId } from '../../debug-adapter/protocol';
import { EXCEPTION_FILTER_IDS } from '../../debug-adapter/protocol';
import { evaluate, fixture, launchStopped, startClient, topFrame, untilStopped } from './adapterClient';

/** events.md §6.1: the fields a condition of each filter may use. */
const CONDITION_FIELDS: Partial<Record<ExceptionFilterId, string[]>> = {
  'page-fault': ['fault', 'fault_addr', 'fault_code', 'va', 'level'],
  'gp-fault': ['fault', 'fault_addr', 'fault_code', 'va'],
  'cr-write': ['reg', 'old', 'value', 'ok', 'intercepted', 'mode_change', 'shadow_made'],
  'hypercall-error': ['rc', 'done', 'failed_index'],
  'ptwr-emulate': ['va', 'l1_mfn', 'index', 'size', 'old', 'new', 'ok', 'rc'],
  'shadow-fixup': ['va', 'cpl', 'gfn', 'sl1_index'],
  'shadow-emulate': ['va', 'gfn', 'offset', 'size', 'value', 'tlb_flush'],
  'oos-resync': ['gfn'],
  unshadow: ['gfn'],
  npf: ['gla', 'gpa'],
  mmio: ['va', 'gpa', 'size', 'value', 'fast'],
};

const EXAMPLES = resolve(__dirname, '../../examples');
const PROGRAMS = [
  ...readdirSync(resolve(__dirname, 'fixtures')).map((f) => fixture(f)),
  ...readdirSync(EXAMPLES).map((f) => resolve(EXAMPLES, f)),
].filter((f) => f.endsWith('.guest'));

function runToEnd(file: string): Engine | null {
  const { engine } = loadEngine(readFileSync(file, 'utf8'), file);
  if (engine === null) return null;
  while (!engine.finished && engine.stepCount < 100_000) engine.step();
  return engine;
}

interface Case {
  filter: ExceptionFilterId;
  file: string;
  condition: string;
  expected: EngineEvent;
  stepEvents: EngineEvent[];
  /** Events of this filter the condition must skip before the expected one. */
  skipped: number;
}

function cases(): Case[] {
  const runs = PROGRAMS.map((file) => ({ file, engine: runToEnd(file) }));
  return Object.entries(CONDITION_FIELDS).map(([filter, fields]) => {
    for (const { file, engine } of runs) {
      const matching = (engine?.events ?? []).filter((e) => filterOf(e) === filter);
      if (engine === null || matching.length === 0) continue;
      const target = eventBindings(matching[matching.length - 1]);
      const used = fields.filter((f) => target.has(f));
      const condition = used.map((f) => `${f} == ${formatValue(target.get(f) as bigint)}`).join(' && ');
      const index = matching.findIndex((e) => used.every((f) => eventBindings(e).get(f) === target.get(f)));
      const expected = matching[index];
      const stepEvents = engine.events.filter((e) => e.step === expected.step);
      return { filter: filter as ExceptionFilterId, file, condition, expected, stepEvents, skipped: index };
    }
    throw new Error(`no program logs a ${filter} event`);
  });
}

let dc: DebugClient;
beforeEach(async () => {
  dc = await startClient();
});
afterEach(async () => {
  await dc.stop();
});

/** The position the adapter is stopped at (steps run). */
async function currentStep(): Promise<number> {
  return ((await dc.customRequest('pagewalk/domains', {})).body as { step: number }).step;
}

async function launchWith(file: string, filterOptions: DebugProtocol.ExceptionFilterOptions[]) {
  const stopped = dc.waitForEvent('stopped');
  let verified: boolean[] = [];
  await Promise.all([
    dc.waitForEvent('initialized').then(async () => {
      const r = await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions });
      verified = (r.body?.breakpoints ?? []).map((b) => b.verified);
      await dc.configurationDoneRequest();
    }),
    dc.launch({ program: file, stopOnEntry: true } as DebugProtocol.LaunchRequestArguments),
  ]);
  await stopped;
  return verified;
}

describe('exception filters with conditions', () => {
  const all = cases();
  it('covers every filter id', () => {
    const tested = new Set([...all.map((c) => c.filter), 'expect-failed', 'invariant']);
    expect([...EXCEPTION_FILTER_IDS].filter((id) => !tested.has(id))).toEqual([]);
    // Some conditions must really select: they skip earlier events of their filter.
    expect(all.filter((c) => c.skipped > 0).length).toBeGreaterThanOrEqual(4);
  });

  it.each(all.map((c) => [c.filter, c] as const))('%s', async (_filter, c) => {
    expect(await launchWith(c.file, [{ filterId: c.filter, condition: c.condition }])).toEqual([true]);
    const ev = await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    expect(ev.body.reason).toBe('exception');
    expect(ev.body.text).toBe(stopText(c.expected, c.stepEvents));
    expect(await currentStep()).toBe(c.expected.step);
    const info = await dc.send('exceptionInfo', { threadId: ev.body.threadId });
    expect(info.body.exceptionId).toBe(c.filter);
    expect(JSON.parse(info.body.details?.stackTrace ?? '{}')).toEqual(toJsonValue(c.expected));
    expect(info.body.details?.message).toBe(c.expected.explanation ?? ev.body.text);
  });
});

describe('expect-failed', () => {
  it('stops when the condition holds, and the run ends without a stop when it does not', async () => {
    await launchWith(fixture('expect.guest'), [{ filterId: 'expect-failed', condition: 'a == 1' }]);
    const ev = await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    expect(ev.body.text).toBe('expectation failed: a == 2 — a should be 2');
    await dc.stop();
    dc = await startClient();
    await launchWith(fixture('expect.guest'), [{ filterId: 'expect-failed', condition: 'a == 5' }]);
    let stopped = false;
    dc.once('stopped', () => (stopped = true));
    await Promise.all([dc.continueRequest({ threadId: 1 }), dc.waitForEvent('terminated')]);
    expect(stopped).toBe(false);
  });
});

describe('invariant', () => {
  /** Pokes an L1 entry mapping the pinned L2 writable: no reference taken, a page table writable. */
  let stepAtPoke = 0;
  async function breakInvariant(): Promise<void> {
    await launchStopped(dc, 'pv.guest', () =>
      dc.setBreakpointsRequest({ source: { path: fixture('pv.guest') }, breakpoints: [{ line: 12 }] }),
    );
    await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    stepAtPoke = await currentStep();
    expect(await evaluate(dc, 'audit', 'repl')).toMatch(/^frame-table audit: no violations$/);
    const l1 = BigInt(await evaluate(dc, 'mfn(l1)'));
    const l2 = BigInt(await evaluate(dc, 'mfn(l2)'));
    const data = Buffer.alloc(8);
    data.writeBigUInt64LE((l2 << 12n) | 7n);
    await dc.send('writeMemory', { memoryReference: `ma:0x${(l1 << 12n).toString(16)}`, offset: 16, data: data.toString('base64') }); // prettier-ignore
  }

  it('checks after every step while on, and stops on a violation matching its condition', async () => {
    await breakInvariant();
    await dc.setExceptionBreakpointsRequest({
      filters: [],
      filterOptions: [{ filterId: 'invariant', condition: 'count >= 1' }],
    });
    const ev = await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    expect(ev.body.reason).toBe('exception');
    expect(ev.body.text).toMatch(/^invariant: \d+ violations? — ./);
    // Checked after the very next step (print r, the last line), not at the end of the run.
    expect(await currentStep()).toBe(stepAtPoke + 1);
    expect((await topFrame(dc)).line).toBe(12);

    const info = await dc.send('exceptionInfo', { threadId: 1 });
    expect(info.body.exceptionId).toBe('invariant');
    const fields = JSON.parse(info.body.details?.stackTrace ?? '{}') as {
      count: number;
      violations: unknown[];
    };
    expect(fields.count).toBeGreaterThanOrEqual(1);
    expect(fields.violations).toHaveLength(fields.count);
  });

  it('does not stop when its condition is false', async () => {
    await breakInvariant();
    await dc.setExceptionBreakpointsRequest({
      filters: [],
      filterOptions: [{ filterId: 'invariant', condition: 'count > 1000' }],
    });
    let stopped = false;
    dc.once('stopped', () => (stopped = true));
    await Promise.all([dc.continueRequest({ threadId: 1 }), dc.waitForEvent('terminated')]);
    expect(stopped).toBe(false);
  });
});
