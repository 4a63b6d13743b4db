import type { DebugClient } from '@vscode/debugadapter-testsupport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluate, fixture, launchStopped, startClient, topFrame, untilStopped } from './adapterClient';

let dc: DebugClient;
beforeEach(async () => {
  dc = await startClient();
  await launchStopped(dc, 'basic.guest', () =>
    dc.setBreakpointsRequest({ source: { path: fixture('basic.guest') }, breakpoints: [{ line: 19 }] }),
  );
  await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
});
afterEach(async () => {
  await dc.stop();
});

async function scope(name: string) {
  const frame = await topFrame(dc);
  const scopes = await dc.scopesRequest({ frameId: frame.id });
  const s = scopes.body.scopes.find((x) => x.name === name);
  if (!s) throw new Error(`no scope ${name}`);
  return (await dc.variablesRequest({ variablesReference: s.variablesReference })).body.variables;
}

describe('variables', () => {
  it('shows every scope', async () => {
    const frame = await topFrame(dc);
    const scopes = await dc.scopesRequest({ frameId: frame.id });
    expect(scopes.body.scopes.map((s) => s.name)).toEqual([
      'Locals',
      'Registers',
      'Domain',
      'Page tables',
      'Frames',
      'TLB',
    ]);
    const locals = await scope('Locals');
    expect(locals.map((v) => [v.name, v.value])).toEqual([
      ['l4', '0x1000'],
      ['x', '0x2b'],
      ['y', '<not yet set>'],
      ['i', '<not yet set>'],
    ]);
    const regs = await scope('Registers');
    const cr0 = regs.find((v) => v.name === 'cr0');
    expect(cr0?.value).toBe('0x80000011 [PE ET PG]');
    const bits = await dc.variablesRequest({ variablesReference: cr0?.variablesReference ?? 0 });
    expect(bits.body.variables.find((v) => v.name === 'PG')?.value).toBe('1');
    const domain = await scope('Domain');
    expect(domain.find((v) => v.name === 'kind')?.value).toBe('hvm-hap');
    const tables = await scope('Page tables');
    expect(tables[0].name).toBe('PML4');
    const l4 = (await dc.variablesRequest({ variablesReference: tables[0].variablesReference })).body
      .variables;
    expect(l4.map((v) => v.name)).toEqual(['[0]', '[1..511]']);
    const tlb = await scope('TLB');
    expect(tlb.length).toBeGreaterThan(0);
  });
});

describe('evaluate and console', () => {
  it('evaluates expressions without side effects and runs console commands', async () => {
    expect(await evaluate(dc, 'read64(0x1000) + 1')).toBe('0x2b');
    expect(await evaluate(dc, 'translate(0x1000) & 0xfff')).toBe('0x0');
    await expect(evaluate(dc, 'read64(0x400000)')).rejects.toThrow(/fault/);
    await expect(evaluate(dc, 'alloc()')).rejects.toThrow();
    const walk = await evaluate(dc, 'walk 0x1000', 'repl');
    expect(walk.split('\n')).toHaveLength(5);
    expect(await evaluate(dc, 'audit', 'repl')).toMatch(/^frame-table audit: no violations$/);
    expect(await evaluate(dc, 'mappings', 'repl')).toBe('0x1000..0x1fff → gfn 0x5 P|RW|A|D');
    const mfn5 = await evaluate(dc, 'translate(0x1000) >> 12');
    expect(await evaluate(dc, `who-maps ${mfn5}`, 'repl')).toBe('web.vcpu0: 0x1000 P|RW|A|D');
    expect(await evaluate(dc, 'history 0x1000', 'repl')).toMatch(/^6 web\.vcpu0 15 cr_write /);
    const c = await dc.send('completions', { text: 'tr', column: 3 });
    expect((c.body as { targets: { label: string }[] }).targets.map((t) => t.label)).toContain('translate');
  });

  it('reads memory in every space', async () => {
    const r = await dc.send('readMemory', { memoryReference: 'va:1:0x1000', count: 8 });
    expect(Buffer.from(r.body.data as string, 'base64').readBigUInt64LE()).toBe(42n);
    const g = await dc.send('readMemory', { memoryReference: 'gpa:web:0x5000', count: 8 });
    expect(g.body.data).toBe(r.body.data);
    const miss = await dc.send('readMemory', { memoryReference: 'va:1:0x400000', count: 4 });
    expect(miss.body.unreadableBytes).toBe(4);
  });

  it('answers the custom view requests', async () => {
    const d = await dc.customRequest('pagewalk/domains', {});
    expect(d.body.domains[0].vcpus[0].cr3).toBe('0x1000');
    const w = await dc.customRequest('pagewalk/walk', { threadId: 1, va: '0x1000' });
    expect(w.body.ok).toBe(true);
    expect(w.body.levels).toHaveLength(4);
    expect(w.body.levels[3].flags).toEqual(['P', 'RW', 'A', 'D']);
    // HAP: every guest reference with its p2m translation (gfn 1-5 sit in the domain's first chunk).
    expect(w.body.hap.rows.map((r: { ref: string; gpa: string }) => [r.ref, r.gpa])).toEqual([
      ['gL4', '0x1000'],
      ['gL3', '0x2000'],
      ['gL2', '0x3000'],
      ['gL1', '0x4008'],
      ['data', '0x5000'],
    ]);
    expect(w.body.hap.rows[3].entry).toBe('0x5063');
    expect(w.body.hap.rows.every((r: { ma: string | null }) => r.ma !== null)).toBe(true);
    expect(w.body.hap.failing).toBeNull();
    const miss = await dc.customRequest('pagewalk/walk', { threadId: 1, va: '0x400000' });
    expect(miss.body.hap.rows.map((r: { ref: string }) => r.ref)).toEqual(['gL4', 'gL3', 'gL2']);
    expect(miss.body.hap.failing).toEqual({ row: 2, col: 1 });
    const e = await dc.customRequest('pagewalk/events', { start: 0, count: 10, classes: ['cr_write'] });
    expect(e.body.total).toBe(2);
    const ft = await dc.customRequest('pagewalk/frameTable', { start: 0, count: 16 });
    expect(ft.body.rows).toHaveLength(16);
    const pt = await dc.customRequest('pagewalk/pageTable', { threadId: 1 });
    expect(pt.body.entries.map((e: { index: number; runLength: number }) => [e.index, e.runLength])).toEqual([
      [0, 1],
      [1, 511],
    ]);
    expect(pt.body.entries[0].expandable).toBe(true);
    const l1 = await dc.customRequest('pagewalk/pageTable', { threadId: 1, frame: 4, level: 1 });
    expect(l1.body.entries[1]).toMatchObject({ index: 1, value: '0x5063', vaStart: '0x1000', target: 5 });
    const sp = await dc.customRequest('pagewalk/shadowPair', { threadId: 1, gfn: 1 });
    expect(sp.body.shadowed).toBe(false);
    const diff = await dc.customRequest('pagewalk/diff', { from: 0 });
    expect(diff.body.registers.map((r: { register: string }) => r.register).sort()).toEqual(['cr0', 'cr3']);
    expect(diff.body.memory.length).toBeGreaterThanOrEqual(5);
    expect((await topFrame(dc)).line).toBe(19);
    await untilStopped(dc, () => dc.customRequest('pagewalk/reverseToCr3Write', { threadId: 1 }));
    expect((await topFrame(dc)).line).toBe(16);
    expect(await evaluate(dc, 'cr3')).toBe('0x1000');
  });
});

describe('malformed requests', () => {
  const bad: [string, unknown][] = [
    ['stackTrace', {}],
    ['stackTrace', { threadId: 99 }],
    ['scopes', { frameId: 7 }],
    ['variables', { variablesReference: 9999 }],
    ['variables', null],
    ['evaluate', { expression: 'nosuch + 1' }],
    ['evaluate', { expression: 42 }],
    ['readMemory', { memoryReference: 'zz:1', count: 4 }],
    ['readMemory', { memoryReference: 'ma:0x0', count: -1 }],
    ['next', { threadId: 'one' }],
    ['exceptionInfo', { threadId: 1 }],
    ['setFunctionBreakpoints', { breakpoints: 3 }],
    ['pagewalk/walk', { threadId: 1, va: 'nope' }],
    ['pagewalk/nothing', {}],
    ['launch', { program: fixture('basic.guest') }],
  ];
  it.each(bad)('%s %j → an error response', async (command, args) => {
    await expect(dc.send(command, args)).rejects.toThrow();
  });

  it('keeps serving after them', async () => {
    for (const [command, args] of bad) await dc.send(command, args).catch(() => undefined);
    expect((await topFrame(dc)).line).toBe(19);
  });
});
