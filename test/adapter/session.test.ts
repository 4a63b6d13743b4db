import type { DebugClient } from '@vscode/debugadapter-testsupport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluate, fixture, launchStopped, startClient, topFrame, untilStopped } from './adapterClient';

let dc: DebugClient;
beforeEach(async () => {
  dc = await startClient();
});
afterEach(async () => {
  await dc.stop();
});

describe('launch', () => {
  it('stops on entry at the first statement', async () => {
    const ev = await launchStopped(dc, 'basic.guest');
    expect(ev.body.reason).toBe('entry');
    const threads = await dc.threadsRequest();
    expect(threads.body.threads.map((t) => t.name)).toEqual(['web.vcpu0']);
    const f = await topFrame(dc);
    expect(f.line).toBe(10);
    expect(f.source?.path).toBe(fixture('basic.guest'));
  });

  it('fails a file with errors, every error located', async () => {
    await expect(dc.launch({ program: fixture('broken.guest') } as never)).rejects.toThrow(
      /broken\.guest:4:13: error: unknown variable 'nosuch'\n.*broken\.guest:5:5: error: unknown variable 'b'/,
    );
  });

  it('runs to the end without breakpoints and prints', async () => {
    const output: string[] = [];
    dc.on('output', (e) => output.push((e.body as { output: string }).output));
    await Promise.all([
      dc.configurationSequence(),
      dc.launch({ program: fixture('basic.guest') } as never),
      dc.waitForEvent('terminated'),
    ]);
    expect(output).toContain('0x2e\n');
  });
});

describe('breakpoints', () => {
  it('stops at a line breakpoint, with a condition and a hit condition', async () => {
    await launchStopped(dc, 'basic.guest', () =>
      dc.setBreakpointsRequest({
        source: { path: fixture('basic.guest') },
        breakpoints: [
          { line: 21, condition: 'i == 2' },
          { line: 6, hitCondition: '== 1' },
        ],
      }),
    );
    let ev = await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    expect(ev.body.reason).toBe('breakpoint');
    expect((await topFrame(dc)).line).toBe(6);
    ev = await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    expect((await topFrame(dc)).line).toBe(21);
    expect(await evaluate(dc, 'i')).toBe('0x2');
  });

  it('emits logpoints without stopping', async () => {
    const output: string[] = [];
    dc.on('output', (e) => output.push((e.body as { output: string }).output));
    await launchStopped(dc, 'basic.guest', () =>
      dc.setBreakpointsRequest({
        source: { path: fixture('basic.guest') },
        breakpoints: [{ line: 21, logMessage: 'i={i}' }],
      }),
    );
    await Promise.all([dc.continueRequest({ threadId: 1 }), dc.waitForEvent('terminated')]);
    expect(output.filter((o) => o.startsWith('i='))).toEqual(['i=0x0\n', 'i=0x1\n', 'i=0x2\n']);
  });

  it('reports breakpoint locations and refuses a bad condition', async () => {
    await launchStopped(dc, 'basic.guest');
    const locs = await dc.send('breakpointLocations', {
      source: { path: fixture('basic.guest') },
      line: 1,
      endLine: 30,
    });
    expect((locs.body as { breakpoints: { line: number }[] }).breakpoints.map((b) => b.line)).toContain(17);
    const r = await dc.setBreakpointsRequest({
      source: { path: fixture('basic.guest') },
      breakpoints: [{ line: 21, condition: 'i ==' }],
    });
    expect(r.body.breakpoints[0].verified).toBe(false);
  });

  it('stops on a cr-write filter with a condition, and gives exceptionInfo', async () => {
    await launchStopped(dc, 'basic.guest', () =>
      dc.setExceptionBreakpointsRequest({
        filters: [],
        filterOptions: [{ filterId: 'cr-write', condition: 'reg == 0 && value == 0x80000011' }],
      }),
    );
    const ev = await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    expect(ev.body.reason).toBe('exception');
    expect(ev.body.text).toMatch(/^cr_write — mov cr0, 0x80000011/);
    expect((await topFrame(dc)).line).toBe(17); // end of the mov cr0 step
    expect(await evaluate(dc, 'cr0')).toBe('0x80000011');
    const info = await dc.send('exceptionInfo', { threadId: 1 });
    expect(info.body.exceptionId).toBe('cr-write');
  });

  it('stops on a page fault at fault_addr', async () => {
    await launchStopped(dc, 'basic.guest', () =>
      dc.setExceptionBreakpointsRequest({
        filters: [],
        filterOptions: [{ filterId: 'page-fault', condition: 'fault_addr == 0x400000' }],
      }),
    );
    const ev = await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    expect(ev.body.text).toMatch(/^fault — read at 0x400000 faulted/);
    expect(await evaluate(dc, 'fault_addr')).toBe('0x400000');
  });

  it('always stops at a failed expect; resuming ends the run', async () => {
    await launchStopped(dc, 'expect.guest');
    const ev = await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    expect(ev.body.reason).toBe('exception');
    expect(ev.body.text).toBe('expectation failed: a == 2 — a should be 2');
    await Promise.all([dc.continueRequest({ threadId: 1 }), dc.waitForEvent('terminated')]);
  });

  it('stops on a function breakpoint on an event class', async () => {
    await launchStopped(dc, 'basic.guest', () =>
      dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'tlb_flush' }] }),
    );
    const ev = await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    expect(ev.body.reason).toBe('function breakpoint');
    expect(await evaluate(dc, 'cr3')).toBe('0x1000');
  });
});

describe('stepping', () => {
  it('steps in, out and over a call', async () => {
    await launchStopped(dc, 'basic.guest', () =>
      dc.setBreakpointsRequest({ source: { path: fixture('basic.guest') }, breakpoints: [{ line: 18 }] }),
    );
    await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    await untilStopped(dc, () => dc.stepInRequest({ threadId: 1 }));
    let st = await dc.stackTraceRequest({ threadId: 1 });
    expect(st.body.stackFrames.map((f) => [f.name, f.line])).toEqual([
      ['touch', 5],
      ['vcpu web.0', 18],
    ]);
    await untilStopped(dc, () => dc.stepOutRequest({ threadId: 1 }));
    st = await dc.stackTraceRequest({ threadId: 1 });
    expect(st.body.stackFrames.map((f) => f.line)).toEqual([19]);
    expect(await evaluate(dc, 'x')).toBe('0x2b');
    await untilStopped(dc, () => dc.nextRequest({ threadId: 1 }));
    expect((await topFrame(dc)).line).toBe(20);
  });

  it('steps back and reverse-continues to a breakpoint met backwards', async () => {
    await launchStopped(dc, 'basic.guest', () =>
      dc.setBreakpointsRequest({ source: { path: fixture('basic.guest') }, breakpoints: [{ line: 24 }] }),
    );
    await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    expect(await evaluate(dc, 'x')).toBe('0x2e');
    const lines: number[] = [];
    for (let i = 0; i < 3; i++) {
      await untilStopped(dc, () => dc.stepBackRequest({ threadId: 1 }));
      lines.push((await topFrame(dc)).line);
    }
    expect(lines).toEqual([23, 20, 21]);
    expect(await evaluate(dc, 'x')).toBe('0x2c');
    await dc.setBreakpointsRequest({ source: { path: fixture('basic.guest') }, breakpoints: [{ line: 15 }] });
    const ev = await untilStopped(dc, () => dc.send('reverseContinue', { threadId: 1 }));
    expect(ev.body.reason).toBe('breakpoint');
    expect((await topFrame(dc)).line).toBe(15);
    expect(await evaluate(dc, 'cr3')).toBe('0x0');
  });

  it('pauses an endless loop', async () => {
    await launchStopped(dc, 'loop.guest');
    await dc.continueRequest({ threadId: 1 });
    await new Promise((r) => setTimeout(r, 100));
    const ev = await untilStopped(dc, () => dc.pauseRequest({ threadId: 1 }));
    expect(ev.body.reason).toBe('pause');
    expect(BigInt(await evaluate(dc, 'n'))).toBeGreaterThan(100n);
  });
});
