// The frame map in headless Chromium: a million frames, only the visible chunks requested, cells
// drawn in their type's colour (sampled from the canvas), hover details, click to reveal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
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

const TOTAL = 1 << 20;
const CELL = 4; // the default cell size

let browser: Browser;
let page: Page;
let errors: string[];

beforeAll(async () => {
  const [b, script] = await Promise.all([launchBrowser(), bundleView('frameMap')]);
  browser = b;
  ({ page, errors } = await openView(browser, 'frameMap', script));
});
afterAll(async () => browser?.close());

type FramesRequest = { type: 'requestFrames'; requestId: number; start: number; count: number };

/**
 * Answers every frame request not answered yet with a synthetic machine: owner = mfn % 3 (0 free,
 * 1 web, 2 the hostile domain), owned frames cycle WRITABLE, L1, L2, L3, L4. The arrays are built
 * inside the page, as the extension would send them: typed arrays, no JSON.
 */
let answered = 0;
async function answerRequests(): Promise<FramesRequest[]> {
  const requests = (await postedMessages(page)).filter((m) => m.type === 'requestFrames') as FramesRequest[];
  const fresh = requests.slice(answered);
  answered = requests.length;
  for (const r of fresh) {
    await page.evaluate((req) => {
      const types = new Uint8Array(req.count);
      const owners = new Uint16Array(req.count);
      const flags = new Uint8Array(req.count);
      for (let i = 0; i < req.count; i++) {
        const mfn = req.start + i;
        owners[i] = mfn % 3;
        types[i] = owners[i] ? [7, 1, 2, 3, 4][mfn % 5]! : 0;
        flags[i] = types[i] === 4 ? 3 : 0;
      }
      const message = { type: 'frames', requestId: req.requestId, start: req.start, types, owners, flags };
      (globalThis as unknown as { postMessage(m: unknown, t: string): void }).postMessage(message, '*');
    }, r);
  }
  return fresh;
}

/** The canvas pixel at the centre of frame `mfn`'s cell, as [r, g, b]. */
async function pixelOf(mfn: number): Promise<number[]> {
  return page.evaluate(
    ({ mfn, cell }) => {
      const doc = (globalThis as unknown as { document: { getElementById(id: string): unknown } }).document;
      const canvas = doc.getElementById('map') as {
        width: number;
        getContext(k: '2d'): {
          getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
        };
      };
      const cols = Math.floor(canvas.width / cell);
      const x = (mfn % cols) * cell + 1;
      const y = Math.floor(mfn / cols) * cell + 1;
      return Array.from(canvas.getContext('2d').getImageData(x, y, 1, 1).data).slice(0, 3);
    },
    { mfn, cell: CELL },
  );
}

describe('frame map', () => {
  it('requests only the chunks in view of a million frames', async () => {
    expect(await postedMessages(page)).toContainEqual({ type: 'ready', view: 'frameMap' });
    await postToView(page, {
      type: 'frameSummary',
      totalFrames: TOTAL,
      domains: [
        { id: 1, name: 'web' },
        { id: 2, name: HOSTILE },
      ],
    });
    const requests = await answerRequests();
    expect(requests.length).toBeGreaterThan(0);
    expect(requests[0]!.start).toBe(0);
    const requested = requests.reduce((n, r) => n + r.count, 0);
    expect(requested).toBeLessThan(TOTAL / 16);
    expect(await page.locator('#total').textContent()).toBe(`${TOTAL} frames`);
  });

  it('draws each frame in its type colour', async () => {
    await postToView(page, { type: 'noop' });
    const green = [0x89, 0xd1, 0x85]; // L1: --vscode-charts-green
    const blue = [0x37, 0x94, 0xff]; // WRITABLE: --vscode-charts-blue
    const free = [0x1e, 0x1e, 0x1e]; // free: the editor background
    await expect.poll(() => pixelOf(1)).toEqual(green);
    expect(await pixelOf(5)).toEqual(blue);
    expect(await pixelOf(3)).toEqual(free);
    await page.screenshot({ path: screenshotPath('frame-map.png') });
  });

  it('shows a frame on hover, with a hostile owner name as text, and reveals it on click', async () => {
    const box = (await page.locator('#map').boundingBox())!;
    await page.mouse.move(box.x + 4 * CELL + 2, box.y + 2); // mfn 4: owner web... 4 % 3 = 1, type L4
    await expect.poll(() => page.locator('#tooltip').textContent()).toContain('mfn 0x4');
    const tip = await page.locator('#tooltip').textContent();
    expect(tip).toContain('type L4');
    expect(tip).toContain('owner web (domain 1)');
    expect(tip).toContain('pinned, validated');
    await page.mouse.move(box.x + 2 * CELL + 2, box.y + 2); // mfn 2: owner 2
    await expect.poll(() => page.locator('#tooltip').textContent()).toContain(`owner ${HOSTILE} (domain 2)`);
    await page.mouse.click(box.x + 2 * CELL + 2, box.y + 2);
    expect(await postedMessages(page)).toContainEqual({ type: 'revealFrame', mfn: 2 });
    expect(await page.locator('img').count()).toBe(0);
    expect(await pwned(page)).toBeUndefined();
  });

  it('requests the last chunk when scrolled to the end, and colours by owner', async () => {
    await page.locator('#scroller').evaluate((el) => {
      const s = el as unknown as { scrollTop: number; scrollHeight: number };
      s.scrollTop = s.scrollHeight;
    });
    await expect.poll(async () => (await answerRequests()).map((r) => r.start + r.count)).toContain(TOTAL);
    await page.selectOption('#color-by', 'owner');
    expect(await page.locator('#legend').textContent()).toContain(HOSTILE);
    expect(await page.evaluate(() => (globalThis as unknown as { __state: unknown }).__state)).toMatchObject({
      colorBy: 'owner',
    });
    expect(errors).toEqual([]);
  });
});
