// The page-table explorer in headless Chromium: tables drawn and decoded, drill-down, a walk lit
// level by level, shadow side by side with mismatches, the HAP grid, and hostile names kept as text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { TablesMessage, WalkMessage } from '../../webview/protocol';
import {
  HOSTILE,
  bundleView,
  launchBrowser,
  openView,
  postToView,
  postedMessages,
  pwned,
  screenshotPath,
} from './webviewHarness';

const pvTables: TablesMessage = {
  type: 'tables',
  domain: 'web',
  domainId: 1,
  vcpu: 0,
  paging: 'pv',
  root: { mfn: 0x1a0, gfn: null },
  tables: [
    {
      level: 4,
      mfn: 0x1a0,
      gfn: null,
      frameType: 'L4',
      pinned: true,
      entries: [
        { index: 0, value: '0x1a1027' },
        { index: 256, value: '0x1a1025' },
      ],
    },
    {
      level: 3,
      mfn: 0x1a1,
      gfn: null,
      frameType: 'L3',
      pinned: true,
      entries: [{ index: 0, value: '0x1a2027' }],
    },
    {
      level: 2,
      mfn: 0x1a2,
      gfn: null,
      frameType: 'L2',
      pinned: true,
      entries: [
        { index: 0, value: '0x1a3027' },
        { index: 5, value: '0x2000e7' },
      ],
    },
    {
      level: 1,
      mfn: 0x1a3,
      gfn: null,
      frameType: 'L1',
      pinned: true,
      entries: [
        { index: 0, value: '0x80000000001a4067' },
        { index: 1, value: '0x1a2025' },
        { index: 7, value: '0x1b5000' },
      ],
    },
  ],
};

const pvWalk: WalkMessage = {
  type: 'walk',
  va: '0x1018',
  levels: [
    {
      level: 4,
      table: { mfn: 0x1a0, gfn: null },
      index: 0,
      entry: '0x1a1027',
      flags: ['P', 'RW', 'US', 'A'],
    },
    {
      level: 3,
      table: { mfn: 0x1a1, gfn: null },
      index: 0,
      entry: '0x1a2027',
      flags: ['P', 'RW', 'US', 'A'],
    },
    {
      level: 2,
      table: { mfn: 0x1a2, gfn: null },
      index: 0,
      entry: '0x1a3027',
      flags: ['P', 'RW', 'US', 'A'],
    },
    { level: 1, table: { mfn: 0x1a3, gfn: null }, index: 1, entry: '0x1a2025', flags: ['P', 'US', 'A'] },
  ],
  result: { ok: true, address: '0x1a2018' },
};

let browser: Browser;
let script: string;
let page: Page;
let errors: string[];

beforeAll(async () => {
  [browser, script] = await Promise.all([launchBrowser(), bundleView('explorer')]);
});
afterAll(async () => browser?.close());

async function fresh(): Promise<void> {
  await page?.close();
  ({ page, errors } = await openView(browser, 'explorer', script));
}

const texts = (selector: string): Promise<string[]> => page.locator(selector).allTextContents();

describe('page-table explorer', () => {
  it('says ready and shows the root table decoded', async () => {
    await fresh();
    expect(await postedMessages(page)).toContainEqual({ type: 'ready', view: 'explorer' });
    await postToView(page, pvTables);
    await expect.poll(() => page.locator('#domain').textContent()).toBe('web.vcpu0');
    expect(await page.locator('#guest .cell').count()).toBe(512);
    expect(await page.locator('#guest .cell.present').count()).toBe(2);
    const rows = await texts('#guest tr.row');
    expect(rows[0]).toContain('0x1a1027');
    expect(rows[0]).toContain('P RW US A');
    expect(rows[0]).toContain('L3 mfn 0x1a1');
    // entry 256 starts the upper, sign-extended half
    expect(rows[1]).toContain('0xffff800000000000–0xffff807fffffffff');
    expect(await page.locator('#shadow').isHidden()).toBe(true);
  });

  it('drills down to the L1 table and decodes leaf entries', async () => {
    for (const name of ['L3 mfn 0x1a1', 'L2 mfn 0x1a2', 'L1 mfn 0x1a3']) {
      await page.locator('#guest button.link', { hasText: name }).first().click();
    }
    expect(await page.locator('#guest h3').textContent()).toContain('L1 table mfn 0x1a3');
    expect(await page.locator('#crumbs button').count()).toBe(4);
    const rows = await texts('#guest tr.row');
    expect(rows[0]).toContain('P RW US A D NX');
    expect(rows[0]).toContain('4K page mfn 0x1a4');
    expect(rows[2]).toContain('not present');
    expect(await page.locator('#guest tr.row.absent').count()).toBe(1);
    await page.locator('#guest button.link', { hasText: '4K page mfn 0x1a4' }).click();
    expect(await postedMessages(page)).toContainEqual({ type: 'revealFrame', mfn: 0x1a4 });
  });

  it('posts a walk request for the typed VA and lights the walked path', async () => {
    await page.locator('#va').evaluate((el) => ((el as unknown as { value: string }).value = '0x1018'));
    await page.locator('#walk-button').click();
    await expect
      .poll(async () => (await postedMessages(page)).filter((m) => m.type === 'requestWalk'))
      .toEqual([{ type: 'requestWalk', requestId: expect.any(Number), va: '0x1018' }]);
    await postToView(page, pvWalk);
    expect(await page.locator('#walk li').count()).toBe(4);
    expect(await page.locator('#walk .result').textContent()).toBe('0x1018 → 0x1a2018');
    expect(await page.locator('#guest .cell.on-path').getAttribute('data-index')).toBe('1');
    expect(await page.locator('#guest tr.row.on-path').textContent()).toContain('0x1a2025');
    await page.screenshot({ path: screenshotPath('explorer.png'), fullPage: true });
    await page.locator('#walk button.link', { hasText: 'L4[0]' }).click();
    expect(await page.locator('#guest .cell.on-path').getAttribute('data-index')).toBe('0');
    expect(errors).toEqual([]);
  });

  it('shows a PV walk fault with its explanation', async () => {
    await postToView(page, {
      ...pvWalk,
      levels: pvWalk.levels.slice(0, 2),
      result: {
        ok: false,
        fault: 'PF',
        code: '0x2',
        level: 3,
        explanation: 'write to 0x1018 — hardware: #PF W',
      },
    });
    expect(await page.locator('#walk li.failed').count()).toBe(1);
    expect(await page.locator('#walk .result').textContent()).toContain('#PF error code 0x2 at L3');
  });

  it('puts an HVM guest table and its shadow side by side with mismatches marked', async () => {
    await fresh();
    await postToView(page, {
      type: 'tables',
      domain: 'vm',
      domainId: 2,
      vcpu: 0,
      paging: 'shadow',
      root: { mfn: 0x3005, gfn: 0x5 },
      tables: [
        {
          level: 4,
          mfn: 0x3005,
          gfn: 0x5,
          entries: [
            { index: 0, value: '0x6027' },
            { index: 1, value: '0x7025' },
            { index: 3, value: '0x8026' },
          ],
          shadow: {
            smfn: 0x9001,
            type: 'l4',
            entries: [
              { index: 0, value: '0x9002027' },
              { index: 1, value: '0x9003027' },
              { index: 3, value: '0x9004027', mismatch: 'audit: stale shadow entry' },
            ],
          },
        },
      ],
    } satisfies TablesMessage);
    await expect.poll(() => page.locator('#shadow').isVisible()).toBe(true);
    expect(await page.locator('#guest h3').textContent()).toContain('gfn 0x5 (mfn 0x3005)');
    expect(await page.locator('#shadow h3').textContent()).toBe('l4 shadow smfn 0x9001');
    const marked = await page
      .locator('#shadow tr.row.mismatch')
      .evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: { index: string } }).dataset.index));
    expect(marked).toEqual(['1', '3']);
    expect(await page.locator('#shadow tr.row.mismatch td.mark').first().getAttribute('title')).toBe(
      'shadow writable, guest read-only',
    );
    expect(await page.locator('#guest .cell.mismatch').count()).toBe(2);
    await page.locator('#guest button.link', { hasText: 'L3 gfn 0x6' }).click();
    const request = (await postedMessages(page)).find((m) => m.type === 'requestTable');
    expect(request).toMatchObject({ frame: 6, level: 3 });
    await postToView(page, {
      type: 'table',
      requestId: request!.requestId,
      table: { level: 3, mfn: 0x3006, gfn: 6, entries: [] },
    });
    expect(await page.locator('#guest').textContent()).toContain('all 512 entries are zero');
    await page.locator('#crumbs button').first().click();
    await page.screenshot({ path: screenshotPath('explorer-shadow.png'), fullPage: true });
  });

  it('draws a HAP walk as a two-dimensional grid with the failing reference marked', async () => {
    await postToView(page, {
      type: 'walk',
      va: '0x400000',
      levels: [
        {
          level: 4,
          table: { mfn: 0x3005, gfn: 5 },
          index: 0,
          entry: '0x6027',
          flags: ['P', 'RW', 'US', 'A'],
        },
      ],
      result: { ok: false, fault: 'PF', code: '0x0', level: 3, explanation: 'npf on gL3 table gfn 0x6' },
      hap: {
        rows: [
          { ref: 'gL4', gpa: '0x5000', nested: '0x3005000', guestEntry: '0x6027' },
          { ref: 'gL3', gpa: '0x6000', nested: null, guestEntry: null },
        ],
        failing: { row: 1, col: 0 },
      },
    } satisfies WalkMessage);
    expect(await page.locator('table.hap tbody tr').count()).toBe(2);
    expect(await page.locator('table.hap td.ok').count()).toBe(2);
    expect(await page.locator('table.hap tbody th').allTextContents()).toEqual(['gL4 0x5000', 'gL3 0x6000']);
    const failing = page.locator('table.hap td.failing');
    expect(await failing.getAttribute('data-col')).toBe('0');
    expect(await failing.locator('xpath=..').getAttribute('data-row')).toBe('1');
    await page.screenshot({ path: screenshotPath('explorer-hap.png'), fullPage: true });
  });

  it('shows a hostile domain name and explanation as text, never as markup', async () => {
    await fresh();
    await postToView(page, { ...pvTables, domain: HOSTILE, domainId: 9 });
    await postToView(page, {
      ...pvWalk,
      result: { ok: false, fault: 'GP', code: '0x0', level: null, explanation: HOSTILE },
    });
    await expect.poll(() => page.locator('#domain').textContent()).toBe(`${HOSTILE}.vcpu0`);
    expect(await page.locator('#walk .result').textContent()).toContain(HOSTILE);
    expect(await page.locator('img').count()).toBe(0);
    await page.waitForTimeout(100);
    expect(await pwned(page)).toBeUndefined();
  });
});
