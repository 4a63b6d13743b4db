/**
 * The scopes beyond Locals/Registers (TLB with stale entries, Shadows, paged Frames), the console
 * commands not covered elsewhere (`frame`, `tlb`, completions of commands), machine-space memory
 * reads, the events a write sends, and data breakpoints on a page-table entry and a frame's state.
 */
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

async function stopAtLine(file: string, line: number): Promise<void> {
  await launchStopped(dc, file, () =>
    dc.setBreakpointsRequest({ source: { path: fixture(file) }, breakpoints: [{ line }] }),
  );
  await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
  expect((await topFrame(dc)).line).toBe(line);
}

async function scope(name: string): Promise<DebugProtocol.Scope> {
  const frame = await topFrame(dc);
  const scopes = await dc.scopesRequest({ frameId: frame.id });
  const s = scopes.body.scopes.find((x) => x.name === name);
  if (!s) throw new Error(`no scope ${name} in ${scopes.body.scopes.map((x) => x.name).join(', ')}`);
  return s;
}

async function children(ref: number, start?: number, count?: number): Promise<DebugProtocol.Variable[]> {
  return (await dc.variablesRequest({ variablesReference: ref, start, count })).body.variables;
}

describe.each(['stale-hap.guest', 'stale-shadow.guest'])('%s', (file) => {
  it('marks the TLB entry whose L1 entry was rewritten without a flush as stale', async () => {
    await stopAtLine(file, 13);
    let tlb = await children((await scope('TLB')).variablesReference);
    const at = (vars: DebugProtocol.Variable[]) => vars.find((v) => v.name === '0x1000')?.value ?? '';
    expect(at(tlb)).not.toMatch(/STALE/);
    expect(await evaluate(dc, 'tlb', 'repl')).toMatch(/^0x1000 → mfn 0x[0-9a-f]+ R[OW] S$/m);
    await untilStopped(dc, () => dc.nextRequest({ threadId: 1 })); // write 0x4008, 0x6000 | P | RW
    tlb = await children((await scope('TLB')).variablesReference);
    const newMfn = await evaluate(dc, 'translate(0x1000) >> 12');
    expect(at(tlb)).toMatch(new RegExp(`STALE \\(tables now give mfn ${newMfn}\\)$`));
    expect(await evaluate(dc, 'tlb', 'repl')).toMatch(
      new RegExp(`^0x1000 → mfn 0x[0-9a-f]+ R[OW] S STALE \\(tables now give mfn ${newMfn}\\)$`, 'm'),
    );
  });
});

describe('shadows and frames', () => {
  it('lists the shadow pages of a shadow domain with their entries', async () => {
    await stopAtLine('stale-shadow.guest', 13);
    const shadows = await children((await scope('Shadows')).variablesReference);
    expect(shadows.map((s) => s.name)).toEqual(['gfn 0x1 l4', 'gfn 0x2 l3', 'gfn 0x3 l2', 'gfn 0x4 l1']);
    expect(shadows[0].value).toMatch(/^smfn 0x[0-9a-f]+ refs \d+ pinned/);
    const l1 = await children(shadows[3].variablesReference);
    const mfn5 = await evaluate(dc, 'translate(0x1000) >> 12');
    expect(l1.find((e) => e.name === '[1]')?.value).toMatch(new RegExp(`→ mfn ${mfn5}$`));
    expect(await evaluate(dc, 'audit', 'repl')).toBe(
      'frame-table audit: no violations\nshadow audit of web: no violations',
    );
  });

  it('has no Shadows scope under HAP, and pages the Frames scope', async () => {
    await stopAtLine('stale-hap.guest', 13);
    const frame = await topFrame(dc);
    const names = (await dc.scopesRequest({ frameId: frame.id })).body.scopes.map((s) => s.name);
    expect(names).not.toContain('Shadows');
    const frames = await scope('Frames');
    expect(frames.indexedVariables).toBe(4096); // 16M of 4K frames
    const page = await children(frames.variablesReference, 4090, 10);
    expect(page.map((v) => v.name)).toEqual(['[4090]', '[4091]', '[4092]', '[4093]', '[4094]', '[4095]']);
    // gfn 1 holds the L4: its row's machine frame holds what the guest wrote at 0x1000.
    const [first] = await children(frames.variablesReference, 1, 1);
    expect(first.name).toBe('[1]');
    expect(first.value).toMatch(/^mfn 0x[0-9a-f]+ NONE type_count 0 ref_count \d+/);
    const read = async (memoryReference: string) =>
      (await dc.send('readMemory', { memoryReference, count: 8 })).body.data as string;
    expect(await read(first.memoryReference ?? '')).toBe(await read('gpa:web:0x1000'));
    const info = await dc.send('dataBreakpointInfo', {
      name: '[1]',
      variablesReference: frames.variablesReference,
    });
    const mfn = BigInt((first.memoryReference ?? '').replace(/^ma:/, '')) >> 12n;
    expect((info.body as { dataId: string }).dataId).toBe(`frame:${mfn}`);
    expect(Buffer.from(await read('gpa:web:0x1000'), 'base64').readBigUInt64LE()).toBe(0x2023n);
  });
});

describe('console and memory', () => {
  it('answers frame MFN and completes console commands', async () => {
    await stopAtLine('pv.guest', 9);
    const l2 = await evaluate(dc, 'mfn(l2)');
    expect(await evaluate(dc, `frame ${l2}`, 'repl')).toMatch(/L2.*type_count 1.*ref_count 2.*pinned/s);
    const c = await dc.send('completions', { text: 'who', column: 4 });
    expect((c.body as { targets: { label: string }[] }).targets.map((t) => t.label)).toEqual(['who-maps']);
    const h = await dc.send('completions', { text: 'his', column: 4 });
    expect((h.body as { targets: { label: string }[] }).targets.map((t) => t.label)).toEqual(['history']);
  });

  it('reads machine memory, and a write sends MemoryEvent and InvalidatedEvent', async () => {
    await stopAtLine('pv.guest', 12);
    const l1 = BigInt(await evaluate(dc, 'mfn(l1)'));
    const l2 = BigInt(await evaluate(dc, 'mfn(l2)'));
    const ma = `ma:0x${(l1 << 12n).toString(16)}`;
    const entryAt = async (offset: number): Promise<bigint> => {
      const r = await dc.send('readMemory', { memoryReference: ma, offset, count: 8 });
      return Buffer.from(r.body.data as string, 'base64').readBigUInt64LE();
    };
    const entry = await entryAt(8); // entry 1: the read-only mapping of the L2
    expect((entry >> 12n) & 0xf_ffff_ffffn).toBe(l2);
    expect(entry & 3n).toBe(1n);
    const memory = dc.waitForEvent('memory');
    const invalidated = dc.waitForEvent('invalidated');
    const data = Buffer.alloc(8, 1).toString('base64');
    await dc.send('writeMemory', { memoryReference: ma, offset: 16, data });
    expect((await memory).body).toMatchObject({ memoryReference: ma, offset: 16, count: 8 });
    expect((await invalidated).body).toMatchObject({ areas: ['variables'] });
    expect(await entryAt(16)).toBe(0x0101_0101_0101_0101n);
  });
});

describe('data breakpoints on page-table state', () => {
  it('stops when an entry changes and when a frame’s counts change, not on a refused update', async () => {
    await stopAtLine('pv.guest', 9);
    const l1 = await evaluate(dc, 'mfn(l1)');
    const l2 = await evaluate(dc, 'mfn(l2)');
    const frame = await topFrame(dc);
    const ids: string[] = [];
    for (const name of [`pte ${l1} 1`, `frame ${l2}`]) {
      const info = await dc.send('dataBreakpointInfo', { name, frameId: frame.id });
      ids.push((info.body as { dataId: string }).dataId);
    }
    expect(ids).toEqual([`pte:${Number(l1)}:1`, `frame:${Number(l2)}`]);
    await dc.send('setDataBreakpoints', { breakpoints: ids.map((dataId) => ({ dataId })) });
    const ev = await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    expect(ev.body.reason).toBe('data breakpoint');
    // The refused writable mapping (line 9) changed nothing; the read-only one (line 11) changed both.
    expect((await topFrame(dc)).line).toBe(12);
    expect(ev.body.text).toMatch(
      new RegExp(`^entry 1 of mfn ${l1}: 0x0 → 0x[0-9a-f]+; frame state of mfn ${l2}: L2 type_count 1 ref_count 2 pinned validated → L2 type_count 1 ref_count 3 pinned validated$`),
    ); // prettier-ignore
    await dc.setBreakpointsRequest({ source: { path: fixture('pv.guest') }, breakpoints: [] });
    const back = await untilStopped(dc, () => dc.send('reverseContinue', { threadId: 1 }));
    // Backwards, the pin of the L2 (line 8) is the last earlier change: the run stops after it.
    expect(back.body.reason).toBe('data breakpoint');
    expect(back.body.text).toMatch(
      new RegExp(`^frame state of mfn ${l2}: NONE type_count 0 ref_count 1 → L2 type_count 1 ref_count 2 pinned validated$`),
    ); // prettier-ignore
    expect((await topFrame(dc)).line).toBe(9);
  });

  it('gives a data id for an entry of the Page tables scope', async () => {
    await stopAtLine('stale-hap.guest', 13);
    const [pml4] = await children((await scope('Page tables')).variablesReference);
    const l4e = await children(pml4.variablesReference);
    const l3e = await children(l4e[0].variablesReference);
    const l2e = await children(l3e[0].variablesReference);
    const l1e = await children(l2e[0].variablesReference);
    expect(l1e.map((e) => e.name)).toEqual(['[0]', '[1]', '[2..3]', '[4]', '[5..511]']);
    const table = l2e[0].variablesReference;
    const info = await dc.send('dataBreakpointInfo', { name: '[1]', variablesReference: table });
    const l1Mfn = BigInt((l2e[0].memoryReference ?? '').replace(/^ma:/, '')) >> 12n;
    expect((info.body as { dataId: string }).dataId).toBe(`pte:${l1Mfn}:1`);
    await dc.send('setDataBreakpoints', {
      breakpoints: [{ dataId: (info.body as { dataId: string }).dataId }],
    });
    const ev = await untilStopped(dc, () => dc.continueRequest({ threadId: 1 }));
    expect(ev.body.text).toMatch(/^entry 1 of mfn 0x[0-9a-f]+: 0x5023 → 0x6003$/);
    expect((await topFrame(dc)).line).toBe(14);
  });
});

describe('page tables', () => {
  it('decodes PV entries with VA range, target frame and its type and counts, lazily', async () => {
    await stopAtLine('pv-tables.guest', 19);
    const [pml4] = await children((await scope('Page tables')).variablesReference);
    const l4 = BigInt(await evaluate(dc, 'mfn(l4)'));
    expect(pml4.value).toBe(`frame 0x${l4.toString(16)}`);
    const l4e = await children(pml4.variablesReference);
    expect(l4e.slice(0, 3).map((e) => e.name)).toEqual(['[0]', '[1..255]', '[256]']); // 256: Xen's read-only M2P slot
    const l3 = await evaluate(dc, 'mfn(l3)');
    expect(l4e[0].value).toMatch(
      new RegExp(`^0x[0-9a-f]+ P\\|RW\\|US\\|A → ${l3} \\[L3 type_count 2 ref_count 3 pinned\\] \\(va 0x0\\.\\.0x7fffffffff\\) PDPT$`),
    ); // prettier-ignore
    const l1e = await children(
      (await children((await children(l4e[0].variablesReference))[0].variablesReference))[0]
        .variablesReference,
    );
    const data = await evaluate(dc, 'mfn(data)');
    expect(l1e[0].value).toMatch(
      new RegExp(`→ ${data} \\[WRITABLE type_count 1 ref_count 2\\] \\(va 0x0\\.\\.0xfff\\)$`),
    );
    expect(l1e[1].name).toBe('[1..511]');
  });

  it('lists the shadows of a guest table and walks the shadow tables', async () => {
    await stopAtLine('stale-shadow.guest', 13);
    const pair = await dc.customRequest('pagewalk/shadowPair', { threadId: 1, gfn: 4 });
    expect(pair.body).toMatchObject({ gfn: 4, shadowed: true, note: null });
    expect(pair.body.shadows.map((s: { type: string }) => s.type)).toEqual(['l1']);
    const root = await dc.customRequest('pagewalk/pageTable', { threadId: 1, which: 'shadow' });
    expect(root.body.entries[0]).toMatchObject({ index: 0, present: true, expandable: true });
    // Follow the shadow hierarchy down to the shadow L1: it is the one shadowPair named.
    let table = root.body;
    for (const level of [3, 2, 1])
      table = (
        await dc.customRequest('pagewalk/pageTable', { threadId: 1, which: 'shadow', frame: table.entries[0].target, level })
      ).body; // prettier-ignore
    expect(table.mfn).toBe(pair.body.shadows[0].mfn);
    const hap = await dc.customRequest('pagewalk/shadowPair', { threadId: 1, gfn: 99 });
    expect(hap.body.shadows).toEqual([]);
  });

  it('refuses shadow tables of a HAP domain', async () => {
    await stopAtLine('stale-hap.guest', 13);
    await expect(dc.customRequest('pagewalk/pageTable', { threadId: 1, which: 'shadow' })).rejects.toThrow(
      /hvm-hap domain has no shadow page tables/,
    );
    const pair = await dc.customRequest('pagewalk/shadowPair', { threadId: 1, gfn: 4 });
    expect(pair.body.note).toMatch(/HAP domain has no shadow page tables/);
  });
});

describe('variable references', () => {
  it('stay the same across stops, so expanded subtrees stay expanded, and show the new state', async () => {
    await stopAtLine('stale-hap.guest', 13);
    const path = async (): Promise<DebugProtocol.Variable[]> => {
      const [pml4] = await children((await scope('Page tables')).variablesReference);
      const l4e = await children(pml4.variablesReference);
      const l3e = await children(l4e[0].variablesReference);
      const l2e = await children(l3e[0].variablesReference);
      return [pml4, l4e[0], l3e[0], l2e[0]];
    };
    const before = await path();
    const entry1 = async (): Promise<string> =>
      (await children(before[3].variablesReference)).find((e) => e.name === '[1]')?.value ?? '';
    expect(await entry1()).toMatch(/^0x5023 /);
    await untilStopped(dc, () => dc.nextRequest({ threadId: 1 })); // rewrites L1 entry 1
    const after = await path();
    expect(after.map((v) => v.variablesReference)).toEqual(before.map((v) => v.variablesReference));
    expect(await entry1()).toMatch(/^0x6003 /);
  });
});
