import type { DebugClient } from '@vscode/debugadapter-testsupport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluate, launchStopped, startClient, topFrame, untilStopped } from './adapterClient';

let dc: DebugClient;
beforeEach(async () => {
  dc = await startClient();
});
afterEach(async () => {
  await dc.stop();
});

describe('hypercalls and threads', () => {
  it('stops before an mmuext op named by a function breakpoint', async () => {
    await launchStopped(dc, 'hypercall.guest', () =>
      dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'new_baseptr' }, { name: 'no_such_thing' }] }),
    );
    const ev = await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    expect(ev.body.reason).toBe('function breakpoint');
    expect((await topFrame(dc)).line).toBe(6);
    expect(await evaluate(dc, 'rc')).toBe('0x0');
  });

  it('stops before hypercalls and ops named by function breakpoints, with hit conditions', async () => {
    await launchStopped(dc, 'pv-tables.guest', () =>
      dc.setFunctionBreakpointsRequest({
        breakpoints: [{ name: 'mmu_update', hitCondition: '== 3' }, { name: 'pin_l4_table' }],
      }),
    );
    let ev = await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    expect([ev.body.reason, ev.body.text]).toEqual(['function breakpoint', 'mmu_update']);
    expect((await topFrame(dc)).line).toBe(15); // the third mmu_update, before it runs
    expect(await evaluate(dc, 'type_count(mfn(l2))')).toBe('0x1');
    ev = await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    expect(ev.body.text).toBe('mmuext pin_l4_table');
    expect((await topFrame(dc)).line).toBe(16);
    expect(await evaluate(dc, 'type_of(mfn(l4)) == NONE')).toBe('0x1');
  });

  it('stops after a refused hypercall with the errno in words, with a condition on rc', async () => {
    await launchStopped(dc, 'hypercall.guest', () =>
      dc.setExceptionBreakpointsRequest({
        filters: [],
        filterOptions: [{ filterId: 'hypercall-error', condition: 'rc == -EOPNOTSUPP' }],
      }),
    );
    const ev = await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    expect(ev.body.reason).toBe('exception');
    expect(ev.body.text).toMatch(/^new_baseptr refused: -EOPNOTSUPP/);
    expect((await topFrame(dc)).line).toBe(7);
    const info = await dc.send('exceptionInfo', { threadId: 1 });
    expect(info.body.exceptionId).toBe('hypercall-error');
    const st = await dc.stackTraceRequest({ threadId: 1 });
    const xen = st.body.stackFrames[0];
    expect(xen.name).toMatch(/^\[hypervisor\] hypercall_result: /);
    expect(xen.source?.path).toBeUndefined();
    expect(xen.source?.sourceReference).toBeGreaterThan(0);
    const scopes = await dc.scopesRequest({ frameId: xen.id });
    expect(scopes.body.scopes.map((s) => s.name)).toEqual([
      'Event (hypercall_result)',
      'Registers',
      'Domain',
      'Page tables',
      'Frames',
      'TLB',
    ]);
    const fields = await dc.variablesRequest({
      variablesReference: scopes.body.scopes[0].variablesReference,
    });
    expect(fields.body.variables.find((v) => v.name === 'op')?.value).toBe('new_baseptr');
    expect(JSON.parse(info.body.details?.stackTrace ?? '{}')).toMatchObject({
      class: 'hypercall_result',
      rc: '0xffffffffffffffa1',
    });
  });

  it('lists both vCPUs as threads and steps one of them', async () => {
    await launchStopped(dc, 'hypercall.guest');
    const threads = await dc.threadsRequest();
    expect(threads.body.threads.map((t) => [t.id, t.name])).toEqual([
      [1, 'web.vcpu0'],
      [2, 'db.vcpu0'],
    ]);
    await untilStopped(dc, () => dc.nextRequest({ threadId: 2 }));
    expect((await topFrame(dc, 2)).line).toBe(13);
    expect((await topFrame(dc, 1)).line).toBe(6); // web ran one step in the round-robin
    await untilStopped(dc, () => dc.stepBackRequest({ threadId: 2 }));
    expect((await topFrame(dc, 2)).line).toBe(12);
    expect((await topFrame(dc, 1)).line).toBe(6);
  });
});
