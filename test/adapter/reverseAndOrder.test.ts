/**
 * The custom reverse requests (reverse step-in/out, back to the previous trap / CR3 write), the
 * launch options `maxSteps` and `trace`, and requests sent out of order — before a launch, or while
 * the program runs — each answered with an error response, after which the adapter still serves.
 */
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluate, fixture, launchStopped, startClient, untilStopped } from './adapterClient';

let dc: DebugClient;
beforeEach(async () => {
  dc = await startClient();
});
afterEach(async () => {
  await dc.stop();
});

async function stack(): Promise<[string, number][]> {
  const st = await dc.stackTraceRequest({ threadId: 1 });
  return st.body.stackFrames.map((f) => [f.name, f.line]);
}

describe('custom reverse requests', () => {
  it('reverse step-in enters the proc that returned; reverse step-out leaves it to the call', async () => {
    await launchStopped(dc, 'basic.guest', () =>
      dc.setBreakpointsRequest({ source: { path: fixture('basic.guest') }, breakpoints: [{ line: 19 }] }),
    );
    await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    expect(await stack()).toEqual([['vcpu web.0', 19]]);
    await untilStopped(dc, () => dc.customRequest('pagewalk/reverseStepIn', { threadId: 1 }));
    expect(await stack()).toEqual([
      ['touch', 6],
      ['vcpu web.0', 18],
    ]);
    expect(await evaluate(dc, 'v')).toBe('0x2a');
    await untilStopped(dc, () => dc.customRequest('pagewalk/reverseStepOut', { threadId: 1 }));
    expect(await stack()).toEqual([['vcpu web.0', 18]]);
    await expect(evaluate(dc, 'x')).rejects.toThrow(/read before its 'let' has run/);
  });

  it('goes back to the previous trap, and to the previous CR3 write', async () => {
    await launchStopped(dc, 'basic.guest', () =>
      dc.setBreakpointsRequest({ source: { path: fixture('basic.guest') }, breakpoints: [{ line: 23 }] }),
    );
    await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    await untilStopped(dc, () => dc.customRequest('pagewalk/reverseToTrap', { threadId: 1 }));
    // Stopped just after the faulting read of line 19, as a forward page-fault stop would be.
    expect(await stack()).toEqual([['vcpu web.0', 20]]);
    expect(await evaluate(dc, 'fault_addr')).toBe('0x400000');
    await untilStopped(dc, () => dc.customRequest('pagewalk/reverseToCr3Write', { threadId: 1 }));
    expect(await stack()).toEqual([['vcpu web.0', 16]]);
    expect(await evaluate(dc, 'cr3')).toBe('0x1000');
    // No earlier CR3 write: back to the start.
    await untilStopped(dc, () => dc.customRequest('pagewalk/reverseToCr3Write', { threadId: 1 }));
    expect(await stack()).toEqual([['vcpu web.0', 10]]);
  });

  it('reverse to a step goes straight to the position after that step, and refuses one ahead', async () => {
    await launchStopped(dc, 'basic.guest', () =>
      dc.setBreakpointsRequest({ source: { path: fixture('basic.guest') }, breakpoints: [{ line: 23 }] }),
    );
    await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    const events = await dc.customRequest('pagewalk/events', { start: 0, count: 100, classes: ['cr_write'] });
    const cr3Write = events.body.events.find((e: { reg: number }) => e.reg === 3);
    const stopped = await untilStopped(dc, () =>
      dc.customRequest('pagewalk/reverseToStep', { threadId: 1, step: cr3Write.step }),
    );
    expect(stopped.body.reason).toBe('goto');
    const d = await dc.customRequest('pagewalk/domains', {});
    expect(d.body.step).toBe(cr3Write.step);
    // Just after `mov cr3, l4` (line 15) ran: the next statement is line 16.
    expect(await stack()).toEqual([['vcpu web.0', 16]]);
    expect(await evaluate(dc, 'cr3')).toBe('0x1000');
    await expect(
      dc.customRequest('pagewalk/reverseToStep', { threadId: 1, step: cr3Write.step + 1 }),
    ).rejects.toThrow(/ahead of the current step/);
  });
});

describe('a long way back', () => {
  it('reverse-continue over a long history answers requests and stops on pause', async () => {
    await launchStopped(dc, 'loop.guest', () =>
      dc.setBreakpointsRequest({ source: { path: fixture('loop.guest') }, breakpoints: [] }),
    );
    await dc.continueRequest({ threadId: 1 });
    await new Promise((r) => setTimeout(r, 1000));
    await untilStopped(dc, () => dc.pauseRequest({ threadId: 1 }));
    const far = BigInt(await evaluate(dc, 'n'));
    // Only the first statement stops (at position 0): the whole history must be replayed back.
    await dc.setBreakpointsRequest({ source: { path: fixture('loop.guest') }, breakpoints: [{ line: 4 }] });
    await dc.send('reverseContinue', { threadId: 1 });
    await expect(dc.stackTraceRequest({ threadId: 1 })).rejects.toThrow(/running: pause first/);
    const ev = await untilStopped(dc, () => dc.pauseRequest({ threadId: 1 }));
    expect(ev.body.reason).toBe('pause');
    const n = BigInt(await evaluate(dc, 'n'));
    expect(n).toBeGreaterThan(0n);
    expect(n).toBeLessThan(far);
    const back = await untilStopped(dc, () => dc.send('reverseContinue', { threadId: 1 }));
    expect(back.body.reason).toBe('breakpoint');
    expect((await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].line).toBe(4);
  });
});

describe('launch options', () => {
  it('maxSteps ends the run with a located error', async () => {
    const output: string[] = [];
    dc.on('output', (e) => output.push((e.body as { output: string }).output));
    await Promise.all([
      dc.configurationSequence(),
      dc.launch({ program: fixture('loop.guest'), maxSteps: 1000 } as never),
      dc.waitForEvent('terminated'),
    ]);
    expect(output).toContain(`${fixture('loop.guest')}:6:9: runtime error: step limit 1000 reached\n`);
  });

  it('trace prints every event as the CLI trace does', async () => {
    const output: string[] = [];
    dc.on('output', (e) => output.push((e.body as { output: string }).output));
    await Promise.all([
      dc.configurationSequence(),
      dc.launch({ program: fixture('basic.guest'), trace: true } as never),
      dc.waitForEvent('terminated'),
    ]);
    expect(output.filter((o) => / web\.vcpu0 1[56] cr_write \{/.test(o))).toHaveLength(2);
  });
});

describe('noDebug', () => {
  it('ignores breakpoints and filters; a failed expect ends the run as pagewalk run does', async () => {
    const output: string[] = [];
    dc.on('output', (e) => output.push((e.body as { output: string }).output));
    let stopped = false;
    dc.on('stopped', () => (stopped = true));
    const exited = dc.waitForEvent('exited');
    await Promise.all([
      dc.waitForEvent('initialized').then(async () => {
        await dc.setBreakpointsRequest({
          source: { path: fixture('expect.guest') },
          breakpoints: [{ line: 4 }],
        });
        await dc.setExceptionBreakpointsRequest({ filters: ['expect-failed', 'invariant'] });
        await dc.configurationDoneRequest();
      }),
      dc.launch({ program: fixture('expect.guest'), noDebug: true, stopOnEntry: true } as never),
      dc.waitForEvent('terminated'),
    ]);
    expect(stopped).toBe(false);
    expect((await exited).body.exitCode).toBe(1);
    expect(output.join('')).toMatch(/expect\.guest:5:5: .*a == 2/);
  });
});

describe('out-of-order requests', () => {
  const beforeLaunch: [string, unknown][] = [
    ['stackTrace', { threadId: 1 }],
    ['next', { threadId: 1 }],
    ['evaluate', { expression: '1 + 1' }],
    ['variables', { variablesReference: 1 }],
    ['readMemory', { memoryReference: 'ma:0x1000', count: 8 }],
    ['setBreakpoints', { source: { path: fixture('basic.guest') }, breakpoints: [{ line: 10 }] }],
    ['pagewalk/domains', {}],
    ['stepBack', { threadId: 1 }],
  ];
  it.each(beforeLaunch)('%s before launch → "launch first"', async (command, args) => {
    await expect(dc.send(command, args)).rejects.toThrow(/launch first/);
  });

  it('answers inspection and stepping requests while running with errors, then pauses', async () => {
    await launchStopped(dc, 'loop.guest');
    await dc.continueRequest({ threadId: 1 });
    const whileRunning: [string, unknown][] = [
      ['stackTrace', { threadId: 1 }],
      ['scopes', { frameId: 100_000 }],
      ['evaluate', { expression: 'n' }],
      ['next', { threadId: 1 }],
      ['continue', { threadId: 1 }],
      ['stepBack', { threadId: 1 }],
      ['reverseContinue', { threadId: 1 }],
      ['writeMemory', { memoryReference: 'gpa:web:0x0', data: 'AA==' }],
      ['pagewalk/reverseToTrap', { threadId: 1 }],
    ];
    for (const [command, args] of whileRunning)
      await expect(dc.send(command, args), command).rejects.toThrow(/running: pause first/);
    const ev = await untilStopped(dc, () => dc.pauseRequest({ threadId: 1 }));
    expect(ev.body.reason).toBe('pause');
    expect(BigInt(await evaluate(dc, 'n'))).toBeGreaterThan(0n);
  });

  it('after the run ended, refuses a second launch and an unknown thread', async () => {
    await Promise.all([
      dc.configurationSequence(),
      dc.launch({ program: fixture('basic.guest') } as DebugProtocol.LaunchRequestArguments),
      dc.waitForEvent('terminated'),
    ]);
    await expect(dc.send('launch', { program: fixture('basic.guest') })).rejects.toThrow(/already launched/);
    await expect(dc.send('next', { threadId: 7 })).rejects.toThrow(/no thread 7/);
  });
});
