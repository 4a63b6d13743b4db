import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluate, fixture, launchStopped, startClient, topFrame, untilStopped } from './adapterClient';

let dc: DebugClient;
beforeEach(async () => {
  dc = await startClient();
});
afterEach(async () => {
  await dc.stop();
});

async function dataBreakpoint(name: string): Promise<string> {
  const frame = await topFrame(dc);
  const info = await dc.send('dataBreakpointInfo', { name, frameId: frame.id });
  const dataId = (info.body as { dataId: string | null }).dataId;
  if (dataId === null) throw new Error(`no data id for ${name}`);
  const r = await dc.send('setDataBreakpoints', { breakpoints: [{ dataId }] });
  expect((r.body as { breakpoints: DebugProtocol.Breakpoint[] }).breakpoints[0].verified).toBe(true);
  return dataId;
}

describe('data breakpoints', () => {
  it('stops when the leaf entry mapping a VA changes (paging on, then A/D set)', async () => {
    await launchStopped(dc, 'basic.guest');
    expect(await dataBreakpoint('leaf 0x1000')).toBe('leaf:0:0x1000');
    let ev = await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    expect(ev.body.reason).toBe('data breakpoint');
    expect(ev.body.text).toMatch(/^leaf entry mapping 0x1000: paging off → L1 mfn 0x[0-9a-f]+\[1\] = 0x5003/);
    expect((await topFrame(dc)).line).toBe(17);
    ev = await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    expect(ev.body.text).toMatch(/= 0x5003 .* → .* = 0x5063/);
    expect((await topFrame(dc)).line).toBe(18);
  });

  it('stops on a variable change forwards and backwards', async () => {
    await launchStopped(dc, 'basic.guest', () =>
      dc.setBreakpointsRequest({ source: { path: fixture('basic.guest') }, breakpoints: [{ line: 20 }] }),
    );
    await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    await dc.setBreakpointsRequest({ source: { path: fixture('basic.guest') }, breakpoints: [] });
    await dataBreakpoint('x');
    const ev = await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    expect(ev.body.text).toBe('variable x (thread 1, frame depth 0): 0x2b → 0x2c');
    expect(await evaluate(dc, 'i')).toBe('0x1');
    await untilStopped(dc, () => dc.continueRequest({ threadId: 1 })); // 0x2c → 0x2e
    await untilStopped(dc, () => dc.send('reverseContinue', { threadId: 1 }));
    expect(await evaluate(dc, 'x')).toBe('0x2c');
    expect(await evaluate(dc, 'i')).toBe('0x1');
  });
});

describe('writeMemory', () => {
  it('pokes memory, announces it, and the run sees the new value', async () => {
    await launchStopped(dc, 'basic.guest', () =>
      dc.setBreakpointsRequest({ source: { path: fixture('basic.guest') }, breakpoints: [{ line: 18 }] }),
    );
    await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    const memoryEvent = dc.waitForEvent('memory');
    const data = Buffer.alloc(8);
    data.writeBigUInt64LE(0x2dn);
    const w = await dc.send('writeMemory', { memoryReference: 'va:1:0x1000', data: data.toString('base64') });
    expect(w.body.bytesWritten).toBe(8);
    await memoryEvent;
    expect(await evaluate(dc, 'read64(0x1000)')).toBe('0x2d');
    // The poke belongs to the history from its step on: back before it, then forward through it.
    await untilStopped(dc, () => dc.stepBackRequest({ threadId: 1 }));
    expect(await evaluate(dc, 'read64(0x1000)')).toBe('0x0');
    await untilStopped(dc, () => dc.nextRequest({ threadId: 1 }));
    expect(await evaluate(dc, 'read64(0x1000)')).toBe('0x2d');
    const ev = await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    expect(ev.body.text).toBe('expectation failed: x == 46 — x is off');
    await expect(dc.send('writeMemory', { memoryReference: 'va:1:0x400000', data: 'AA==' })).rejects.toThrow(
      /RAM/,
    );
  });
});
