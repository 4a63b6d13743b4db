/**
 * Every example program, every exception filter on: the adapter stops, answers every inspection
 * request at every stop and reaches the end — whatever kind of domain the example runs (HAP,
 * shadow, PV). A robustness net over programs written by others; the PV examples' refused
 * hypercalls must read as events.md §6.1 says (`NAME refused: -ERR — explanation`).
 */
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXCEPTION_FILTER_IDS } from '../../debug-adapter/protocol';
import { nextStopOrEnd, startClient } from './adapterClient';

const EXAMPLES = resolve(__dirname, '../../examples');
const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.guest'));

let dc: DebugClient;
beforeEach(async () => {
  dc = await startClient();
});
afterEach(async () => {
  await dc.stop();
});

interface Seen {
  text: string;
  info: DebugProtocol.ExceptionInfoResponse['body'] | null;
}

async function inspect(
  threadId: number,
  reason: string,
): Promise<DebugProtocol.ExceptionInfoResponse['body'] | null> {
  const st = await dc.stackTraceRequest({ threadId });
  const scopes = await dc.scopesRequest({ frameId: st.body.stackFrames[0].id });
  for (const s of scopes.body.scopes) {
    const vars = await dc.variablesRequest({ variablesReference: s.variablesReference });
    for (const v of vars.body.variables.slice(0, 3))
      if (v.variablesReference > 0) await dc.variablesRequest({ variablesReference: v.variablesReference });
  }
  await dc.customRequest('pagewalk/domains', {});
  if (reason !== 'exception') return null;
  return ((await dc.send('exceptionInfo', { threadId })) as DebugProtocol.ExceptionInfoResponse).body;
}

/** Runs an example with every filter on; every stop's text and exception details. */
async function runExample(file: string): Promise<Seen[]> {
  let ended = false;
  const onTerminated = (): void => {
    ended = true;
  };
  dc.once('terminated', onTerminated);
  const seen: Seen[] = [];
  const first = dc.waitForEvent('stopped');
  await Promise.all([
    dc.waitForEvent('initialized').then(async () => {
      await dc.setExceptionBreakpointsRequest({ filters: [...EXCEPTION_FILTER_IDS] });
      await dc.configurationDoneRequest();
    }),
    dc.launch({
      program: resolve(EXAMPLES, file),
      stopOnEntry: true,
    } as DebugProtocol.LaunchRequestArguments),
  ]);
  let ev = (await first) as DebugProtocol.StoppedEvent;
  for (let i = 0; i < 300 && !ended; i++) {
    const info = await inspect(ev.body.threadId ?? 1, ev.body.reason);
    seen.push({ text: ev.body.text ?? ev.body.reason, info });
    const next = nextStopOrEnd(dc);
    await dc.continueRequest({ threadId: ev.body.threadId ?? 1 });
    const got = await next;
    if (got.event === 'terminated') break;
    ev = got as DebugProtocol.StoppedEvent;
  }
  dc.off('terminated', onTerminated);
  return seen;
}

describe.each(files)('%s', (file) => {
  it('runs to its end under the debugger with every filter on', async () => {
    const seen = await runExample(file);
    expect(seen.length).toBeGreaterThan(0);
    // No example breaks an invariant, and every example's expectations hold.
    expect(seen.filter((s) => s.info?.exceptionId === 'invariant').map((s) => s.text)).toEqual([]);
    expect(seen.filter((s) => s.info?.exceptionId === 'expect-failed').map((s) => s.text)).toEqual([]);
    for (const s of seen) {
      if (s.info === null) continue;
      const fields = JSON.parse(s.info.details?.stackTrace ?? '{}') as Record<string, unknown>;
      expect(typeof fields.class).toBe('string');
      expect(s.info.details?.message).toBeTruthy();
      if (s.info.exceptionId !== 'hypercall-error') continue;
      expect(s.text).toMatch(/^[a-z_0-9]+ refused: -E[A-Z0-9]+ — ./);
      expect(fields).toMatchObject({ class: 'hypercall_result' });
      expect(fields.rc).not.toBe('0x0');
    }
  });
});

describe('pv-writable-pagetable-refused.guest', () => {
  it('says which entry, which frame and why the mmu_update was refused', async () => {
    const seen = await runExample('pv-writable-pagetable-refused.guest');
    const refused = seen.filter((s) => s.info?.exceptionId === 'hypercall-error');
    expect(refused).toHaveLength(1);
    expect(refused[0].text).toMatch(
      /^mmu_update refused: -EBUSY — L1 entry 1 of mfn 0x[0-9a-f]+ would map mfn 0x[0-9a-f]+ writable, but mfn 0x[0-9a-f]+ is an L2 page table \(type count 1, pinned\) — .*get_page_from_l1e.*-EBUSY$/,
    );
    const fields = JSON.parse(refused[0].info?.details?.stackTrace ?? '{}') as Record<string, unknown>;
    expect(fields).toMatchObject({ class: 'hypercall_result', name: 'mmu_update', done: 0 });
    expect(refused[0].info?.details?.message).toMatch(/would map .* get_page_from_l1e/);
    expect(refused[0].info?.description).toBe(refused[0].text);
  });
});
