/**
 * Every example program, every exception filter on: the adapter stops, answers every inspection
 * request at every stop and reaches the end — whatever kind of domain the example runs (HAP,
 * shadow, PV). A robustness net over programs written by others.
 */
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXCEPTION_FILTER_IDS } from '../../debug-adapter/protocol';
import { startClient } from './adapterClient';

const EXAMPLES = resolve(__dirname, '../../examples');
const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.guest'));

let dc: DebugClient;
beforeEach(async () => {
  dc = await startClient();
});
afterEach(async () => {
  await dc.stop();
});

async function inspect(threadId: number, reason: string): Promise<void> {
  const st = await dc.stackTraceRequest({ threadId });
  const scopes = await dc.scopesRequest({ frameId: st.body.stackFrames[0].id });
  for (const s of scopes.body.scopes) {
    const vars = await dc.variablesRequest({ variablesReference: s.variablesReference });
    for (const v of vars.body.variables.slice(0, 3))
      if (v.variablesReference > 0) await dc.variablesRequest({ variablesReference: v.variablesReference });
  }
  if (reason === 'exception') await dc.send('exceptionInfo', { threadId });
  await dc.customRequest('pagewalk/domains', {});
}

describe.each(files)('%s', (file) => {
  it('runs to its end under the debugger with every filter on', async () => {
    let ended = false;
    dc.once('terminated', () => (ended = true));
    const stops: string[] = [];
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
      await inspect(ev.body.threadId ?? 1, ev.body.reason);
      stops.push(ev.body.text ?? ev.body.reason);
      const next = Promise.race([dc.waitForEvent('stopped'), dc.waitForEvent('terminated')]);
      await dc.continueRequest({ threadId: ev.body.threadId ?? 1 });
      const got = (await next) as DebugProtocol.Event;
      if (got.event === 'terminated') break;
      ev = got as DebugProtocol.StoppedEvent;
    }
    expect(stops.length).toBeGreaterThan(0);
  });
});
