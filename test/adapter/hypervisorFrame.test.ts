/**
 * Stepping into a hypercall shows the hypervisor's side: a synthetic frame on top whose source is a
 * read-only text stating the rule its handler applies and what the call did; stepping out (or over)
 * returns to the guest without running anything. A PV guest, so the handlers are Xen's PV ones.
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

async function frames(): Promise<DebugProtocol.StackFrame[]> {
  return (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
}

/** The position the adapter is stopped at (steps run). */
async function currentStep(): Promise<number> {
  return ((await dc.customRequest('pagewalk/domains', {})).body as { step: number }).step;
}

async function sourceText(frame: DebugProtocol.StackFrame): Promise<string> {
  const r = await dc.send('source', {
    source: frame.source,
    sourceReference: frame.source?.sourceReference,
  });
  return (r.body as { content: string }).content;
}

describe('step into a hypercall', () => {
  it('stops in the hypervisor with the rule as read-only source, and steps out to the guest', async () => {
    await launchStopped(dc, 'pv.guest', () =>
      dc.setBreakpointsRequest({ source: { path: fixture('pv.guest') }, breakpoints: [{ line: 7 }] }),
    );
    await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    const before = await currentStep();
    const ev = await untilStopped(dc, () => dc.stepInRequest({ threadId: 1 }));
    const inside = await currentStep();
    expect(inside).toBe(before + 1);
    expect(ev.body.reason).toBe('step');
    expect(ev.body.description).toBe(
      'in the hypervisor: do_mmuext_op → get_page_and_type_from_mfn → promote_l1_table',
    );
    const [xen, guest] = await frames();
    expect(xen.name).toBe(
      '[hypervisor] hypercall_result: do_mmuext_op → get_page_and_type_from_mfn → promote_l1_table',
    );
    expect(xen.source?.path).toBeUndefined();
    expect(xen.source?.sourceReference).toBe(inside);
    expect([guest.name, guest.line]).toEqual(['vcpu web.0', 8]); // the hypercall has run
    const text = await sourceText(xen);
    expect(text).toMatch(/^; do_mmuext_op → get_page_and_type_from_mfn → promote_l1_table — step \d+/);
    expect(text).toContain('xen-semantics.md R6.1');
    expect(text).toContain('the pin holds one general and');
    expect(text).toContain('; Result: rc = 0x0');
    expect(text).toMatch(/ pin \{"mfn":\d+,"type":"L1"\}/);
    const scopes = await dc.scopesRequest({ frameId: xen.id });
    expect(scopes.body.scopes[0].name).toBe('Event (hypercall_result)');
    expect(await evaluate(dc, 'type_of(mfn(l1)) == L1 && pinned(mfn(l1))')).toBe('0x1');

    // Step out: back in the guest at the same position, nothing run.
    await untilStopped(dc, () => dc.stepOutRequest({ threadId: 1 }));
    expect(await currentStep()).toBe(inside);
    expect((await frames()).map((f) => [f.name, f.line])).toEqual([['vcpu web.0', 8]]);
  });

  it('says why a refused call was refused, and next from inside returns to the guest', async () => {
    await launchStopped(dc, 'pv.guest', () =>
      dc.setBreakpointsRequest({ source: { path: fixture('pv.guest') }, breakpoints: [{ line: 9 }] }),
    );
    await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    const ev = await untilStopped(dc, () => dc.stepInRequest({ threadId: 1 }));
    expect(ev.body.description).toMatch(
      /^in the hypervisor: do_mmu_update → mod_l1_entry → get_page_from_l1e/,
    );
    const [xen] = await frames();
    const text = await sourceText(xen);
    expect(text).toContain('xen-semantics.md R5.1–R5.5');
    expect(text).toMatch(/; Result: rc = 0xfffffffffffffff0, done = 0/);
    expect(text).toMatch(
      /refusal \(R[\d.]+\): L1 entry 1 of mfn 0x[0-9a-f]+ would map mfn 0x[0-9a-f]+ writable/,
    );
    await untilStopped(dc, () => dc.nextRequest({ threadId: 1 }));
    expect((await frames()).map((f) => f.line)).toEqual([10]);
    // A plain step over a hypercall does not enter it.
    await untilStopped(dc, () => dc.nextRequest({ threadId: 1 }));
    await untilStopped(dc, () => dc.nextRequest({ threadId: 1 }));
    expect((await frames()).map((f) => f.line)).toEqual([12]);
    // Back before the hypercall, then into it again: the same text (rebuilt from the replayed step).
    await untilStopped(dc, () => dc.stepBackRequest({ threadId: 1 }));
    await untilStopped(dc, () => dc.stepInRequest({ threadId: 1 }));
    const [again] = await frames();
    expect(again.name).toMatch(/^\[hypervisor\] hypercall_result: do_mmu_update → mod_l1_entry/);
    expect(await sourceText(again)).toContain('; Result: rc = 0x0, done = 1');
  });

  it('refuses the source of a step that is no longer in the history', async () => {
    await launchStopped(dc, 'pv.guest');
    await expect(dc.send('source', { sourceReference: 5 })).rejects.toThrow(/no hypervisor source 5/);
  });
});

describe('frames at stops that are not the hypervisor’s', () => {
  it('shows no hypervisor frame at a failed expect, and one at a fault', async () => {
    await launchStopped(dc, 'expect.guest');
    await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    expect((await frames()).map((f) => f.name)).toEqual(['vcpu web.0']);
    const info = await dc.send('exceptionInfo', { threadId: 1 });
    expect(info.body.exceptionId).toBe('expect-failed');
  });

  it('shows the fault’s handler chain on top at a page-fault stop, and step out leaves it', async () => {
    await launchStopped(dc, 'basic.guest', () =>
      dc.setExceptionBreakpointsRequest({ filters: ['page-fault'] }),
    );
    await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    const [xen, guest] = await frames();
    expect(xen.name).toBe('[hypervisor] fault: hardware');
    expect(guest.line).toBe(20);
    expect(await sourceText(xen)).toMatch(/; Why:\n; {3}fault \(R[\d.]+\): read at 0x400000 faulted/);
    const before = await currentStep();
    await untilStopped(dc, () => dc.stepOutRequest({ threadId: 1 }));
    expect((await frames()).map((f) => f.line)).toEqual([20]);
    expect(await currentStep()).toBe(before);
  });
});
