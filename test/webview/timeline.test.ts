// The timeline in headless Chromium: events on their lanes, the current-step cursor, hover text
// kept as text, and a click that asks to travel to the step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { TimelineMessage } from '../../webview/protocol';
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

const run: TimelineMessage = {
  type: 'timeline',
  totalSteps: 40,
  currentStep: 12,
  events: [
    { step: 3, domain: 'web', vcpu: 0, line: 10, class: 'hypercall', label: 'mmuext pin_l1_table' },
    { step: 3, domain: 'web', vcpu: 0, line: 10, class: 'hypercall_result', label: 'mmuext rc 0x0' },
    { step: 7, domain: 'web', vcpu: 0, line: 14, class: 'ref_taken', label: 'not on the timeline' },
    {
      step: 9,
      domain: 'web',
      vcpu: 0,
      line: 20,
      class: 'refusal',
      label: 'mmu_update -EBUSY',
      explanation: 'L1 entry 1 of mfn 0x1a2 would map mfn 0x1a3 writable — get_page_from_l1e: -EBUSY',
    },
    { step: 15, domain: 'vm', vcpu: 1, line: 8, class: 'cr_write', label: 'cr3 ← 0x5000' },
    { step: 21, domain: HOSTILE, vcpu: 0, line: 30, class: 'fault', label: HOSTILE, explanation: HOSTILE },
    { step: 33, domain: 'vm', vcpu: 0, line: 31, class: 'fixup', label: 'fixup 0x400000' },
  ],
};

let browser: Browser;
let page: Page;
let errors: string[];

beforeAll(async () => {
  const [b, script] = await Promise.all([launchBrowser(), bundleView('timeline')]);
  browser = b;
  ({ page, errors } = await openView(browser, 'timeline', script));
});
afterAll(async () => browser?.close());

describe('timeline', () => {
  it('puts traps, hypercalls and CR writes on their lanes', async () => {
    expect(await postedMessages(page)).toContainEqual({ type: 'ready', view: 'timeline' });
    await postToView(page, run);
    expect(await page.locator('rect.mark.hypercall').count()).toBe(3);
    expect(await page.locator('rect.mark.trap').count()).toBe(2);
    expect(await page.locator('rect.mark.cr').count()).toBe(1);
    expect(await page.locator('#summary').textContent()).toBe('6 events over 40 steps · at step 12');
  });

  it('moves the cursor with the current step', async () => {
    const x = (): Promise<string | null> => page.locator('line.cursor').getAttribute('x1');
    const before = Number(await x());
    await postToView(page, { type: 'currentStep', step: 30 });
    expect(Number(await x())).toBeGreaterThan(before);
    await page.screenshot({ path: screenshotPath('timeline.png') });
  });

  it('shows an event on hover, hostile text as text, and travels to its step on click', async () => {
    const mark = page.locator('rect.mark.trap[data-step="21"]');
    await mark.hover();
    await expect.poll(() => page.locator('#tooltip').textContent()).toContain(`fault: ${HOSTILE}`);
    expect(await page.locator('img').count()).toBe(0);
    expect(await pwned(page)).toBeUndefined();
    await page.locator('rect.mark.hypercall[data-class="refusal"]').click();
    expect(await postedMessages(page)).toContainEqual({ type: 'travelToStep', step: 9 });
    expect(errors).toEqual([]);
  });
});
