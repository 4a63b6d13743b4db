// The UI test: code-server in Chromium, used like a person (vscode-e2e.md §4, §8). Install the
// VSIX, open an example, press F5, see the Domains tree and the Call Stack, tick the "Control
// register writes" exception filter, continue to the CR3 write, open the page-table explorer, and
// take the README's screenshots on the way.
/* global document -- the waitForFunction callback runs in the page */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installVsix, launchChromium, prepareProfile, startCodeServer } from './codeServer.mjs';

const WAIT = 30_000;

export async function runUiTest({ tools, runDir, port, vsix, workspace, screenshots, log }) {
  prepareProfile(runDir, port);
  installVsix(tools, runDir, vsix);
  const server = await startCodeServer(tools, runDir, port);
  const browser = await launchChromium(runDir);
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(5000); // pitfall 8.2: never the implicit 30 s on a locator that cannot match
  page.setDefaultNavigationTimeout(60_000); // the first load compiles the workbench on a busy machine
  mkdirSync(screenshots, { recursive: true });
  const step = (text) => log(`ui: ${text}`);
  const shot = async (name) => {
    await page.mouse.move(1, 1); // no hover tooltips in screenshots (pitfall 12)
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(screenshots, name) });
    step(`screenshot ${join(screenshots, name)}`);
  };

  /** One try at the palette: F1, type, run the row whose label is exactly `label`. */
  const paletteOnce = async (label, timeout) => {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible', timeout });
    await input.fill(`>${label}`);
    const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', {
      has: page.locator('.label-name', {
        hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
      }),
    });
    await row.first().waitFor({ timeout });
    const focused = await page
      .locator('.quick-input-widget .monaco-list-row.focused .label-name')
      .first()
      .textContent();
    if (focused === label) await page.keyboard.press('Enter');
    else await row.first().click();
    // Done when the palette closed, or when the command opened a quick pick of its own in it.
    await page.waitForFunction(
      () => {
        const widget = document.querySelector('.quick-input-widget');
        if (!widget || widget.getClientRects().length === 0) return true;
        const input = widget.querySelector('.quick-input-box input');
        return input !== null && !input.value.startsWith('>');
      },
      undefined,
      { timeout },
    );
  };
  /** Runs a palette command; a palette that did not open or answer (a busy machine) is tried again. */
  const runCommand = async (label) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await paletteOnce(label, WAIT / 2);
      } catch (e) {
        if (attempt === 3) throw new Error(`the palette did not run '${label}' in 3 tries: ${e.message}`);
        log(`ui: palette try ${attempt} for '${label}' failed (${e.message.split('\n')[0]}), again`);
        await page.keyboard.press('Escape');
      }
    }
  };

  const pane = (title) =>
    page.locator('.part.sidebar .split-view-view', { has: page.locator('.pane-header h3.title', { hasText: new RegExp(`^${title}$`, 'i') }) }); // prettier-ignore
  const expandPane = async (title) => {
    const header = pane(title).locator('.pane-header').first();
    await header.waitFor({ timeout: WAIT });
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
  };
  const collapsePane = async (title) => {
    const header = pane(title).locator('.pane-header').first();
    if ((await header.count()) && (await header.getAttribute('aria-expanded')) === 'true')
      await header.click();
  };
  const rowIn = (title, text) => pane(title).locator('.monaco-list-row', { hasText: text }).first();
  /** Drags the sash right of the side bar so tree rows show whole in the screenshots. */
  const widenSidebar = async (width) => {
    const box = await page.locator('.part.sidebar').boundingBox();
    if (!box || box.width >= width) return;
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width + 1, y);
    await page.mouse.down();
    await page.mouse.move(box.x + width, y, { steps: 10 });
    await page.mouse.up();
    const after = await page.locator('.part.sidebar').boundingBox();
    step(`side bar ${Math.round(box.width)} → ${Math.round(after?.width ?? 0)} px wide`);
  };
  /** Ticks or unticks an exception filter's checkbox in the Breakpoints view. */
  const toggleFilter = async (label) => {
    const filter = rowIn('Breakpoints', label);
    await filter.waitFor({ timeout: WAIT });
    await filter.locator('.monaco-checkbox, .monaco-custom-toggle, input[type=checkbox]').first().click();
  };
  /** Quick Open (Ctrl+P) a workspace file by name and put the cursor in it, ready for F5. */
  const openFile = async (name) => {
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget .quick-input-box input').fill(name);
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: name }).first().waitFor({ timeout: WAIT }); // prettier-ignore
    await page.keyboard.press('Enter');
    await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ timeout: WAIT });
    await page.locator('.part.editor .editor-group-container.active .view-lines').first().click();
  };
  /** Unfolds a tree row with its twistie, again if a refresh of the view folded it meanwhile. */
  const expandRow = async (title, text) => {
    const row = rowIn(title, text);
    const deadline = Date.now() + WAIT;
    for (;;) {
      await row.waitFor({ timeout: Math.max(1000, deadline - Date.now()) });
      if ((await row.getAttribute('aria-expanded')) === 'true') return;
      if (Date.now() > deadline) throw new Error(`the row '${text}' in ${title} does not unfold`);
      await row.locator('.monaco-tl-twistie').click();
      await page.waitForTimeout(500);
    }
  };

  try {
    await page.goto(`${server.base}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: WAIT });
    await page.locator('.part.statusbar').waitFor({ timeout: WAIT });
    await runCommand('View: Show Run and Debug');
    step('workbench interactive');
    // The extension's contributions are loaded once its Domains view is there: only then does the
    // palette know its commands.
    await pane('Domains').locator('.pane-header').first().waitFor({ timeout: 2 * WAIT }); // prettier-ignore
    await widenSidebar(560);

    // Open the example the way the walkthrough says: "Pagewalk: Open an Example". It offers the
    // workspace's programs and the examples inside the installed VSIX.
    await runCommand('Pagewalk: Open an Example');
    await page.locator('.quick-input-widget .quick-input-box input').fill('hap-paging-on');
    const pickRow = (description) =>
      page.locator('.quick-input-widget .monaco-list-row', { hasText: 'hap-paging-on.guest' }).filter({ hasText: description }).first(); // prettier-ignore
    await pickRow('example').waitFor({ timeout: WAIT });
    step('the example picker lists the examples shipped in the VSIX');
    await pickRow('workspace').click();
    await page.locator('.tabs-container .tab', { hasText: 'hap-paging-on.guest' }).waitFor({ timeout: WAIT });
    await page.locator('.part.editor .view-lines').first().click();
    step('opened examples/hap-paging-on.guest');

    await page.keyboard.press('F5');
    await page.locator('.debug-toolbar').waitFor({ state: 'visible', timeout: WAIT });
    step('F5 started a session (no launch.json)');
    // The Debug Console opens with the session; hide it as a person would, for room in the screenshots.
    await runCommand('View: Hide Panel');

    await runCommand('View: Show Run and Debug');
    await expandPane('Call Stack');
    const state = pane('Call Stack').locator('.call-stack-state-message');
    await state.waitFor({ timeout: WAIT });
    step(`Call Stack: ${await state.textContent()}`);
    await expandPane('Domains');
    await rowIn('Domains', 'vm').waitFor({ timeout: WAIT });
    await rowIn('Domains', 'vcpu0').waitFor({ timeout: WAIT });
    await rowIn('Domains', 'CR3').waitFor({ timeout: WAIT });
    step('Domains tree shows vm → vcpu0 → CR3');
    const status = page.locator('.part.statusbar .statusbar-item', { hasText: 'vm.vcpu0' }).first();
    await status.waitFor({ timeout: WAIT });
    step(`status bar: ${(await status.innerText()).trim()}`);
    await shot('vscode-debugging.png');

    // Tick the exception filter in the Breakpoints view, then continue to the CR3 write.
    await expandPane('Breakpoints');
    await toggleFilter('Control register writes');
    step('ticked "Control register writes" in Breakpoints');
    // Make room for the Domains tree in the screenshots.
    for (const title of ['Variables', 'Watch', 'Breakpoints']) await collapsePane(title);
    // Two control-register writes: mov cr3, then mov cr0 (paging on). The stop text names the event.
    for (const want of ['mov cr3', 'mov cr0']) {
      await page.locator('.debug-toolbar .action-label.codicon-debug-continue').click();
      await page.waitForFunction(
        (w) => (document.querySelector('.call-stack-state-message')?.textContent ?? '').includes(w),
        want,
        { timeout: WAIT },
      );
    }
    // The exception widget stays open in the editor: it is what a CR-write stop looks like.
    await expandRow('Domains', 'Page tables');
    await expandRow('Domains', '[0] PML4E');
    await rowIn('Domains', 'L3 table').waitFor({ timeout: WAIT });
    step(`stopped: ${await state.textContent()}`);
    const cr0Row = rowIn('Domains', 'CR0');
    const cr0Text = (await cr0Row.innerText()).replace(/\s+/g, ' ');
    if (!/PG/.test(cr0Text) || !/changed/.test(cr0Text))
      throw new Error(`CR0 should show PG, marked as changed since the last stop: '${cr0Text}'`);
    step(`Domains: ${cr0Text}`);
    await shot('vscode-cr-write.png');

    await runCommand('Pagewalk: Open Page-Table Explorer');
    const outer = page.locator('iframe.webview.ready').last().contentFrame();
    const inner = outer.locator('iframe#active-frame').contentFrame();
    await inner.locator('#domain', { hasText: 'vm' }).waitFor({ timeout: WAIT });
    step(`explorer webview shows domain ${await inner.locator('#domain').textContent()}`);
    // Walk an address the way a person would: type it, press the button, read the lit path.
    await inner.locator('#va input').click();
    await inner.locator('#va input').fill('0x400000');
    await inner.locator('#walk-button').click();
    const result = inner.locator('#walk .result');
    await result.waitFor({ timeout: WAIT });
    const walked = (await result.textContent()) ?? '';
    if (!walked.startsWith('0x400000 →'))
      throw new Error(`the walk of 0x400000 should translate: '${walked}'`);
    step(`explorer walk: ${walked}`);
    await shot('vscode-explorer.png');
    // The walked L1 names the data page by gfn: revealing it shows its machine frame, found through the p2m.
    await inner.locator('#guest button.link', { hasText: '4K page gfn 0x4' }).first().click();
    const output = page.locator('.part.panel .view-lines', { hasText: 'pfn 0x4' }).first();
    await output.waitFor({ timeout: WAIT });
    step(`reveal: ${(await output.innerText()).replace(/\s+/g, ' ').slice(-120)}`);
    await runCommand('View: Hide Panel');

    // The other views of the stop: the frame table by owner and type, and the event log.
    await collapsePane('Domains');
    await expandPane('Frames');
    await expandPane('Traps');
    await collapsePane('Call Stack');
    await rowIn('Frames', 'vm (d1)').waitFor({ timeout: WAIT });
    // The domain's whole range, paged by mfn: the first page of frames.
    await expandRow('Frames', 'all frames');
    await expandRow('Frames', '[0xf000…]');
    const frameRow = pane('Frames')
      .locator('.monaco-list-row', { hasText: /^mfn 0xf000(?!–)/ })
      .first();
    await frameRow.waitFor({ timeout: WAIT });
    step(`Frames: ${(await frameRow.innerText()).replace(/\s+/g, ' ')}`);
    const trap = rowIn('Traps', 'cr_write');
    await trap.waitFor({ timeout: WAIT });
    step(`Traps: ${(await trap.innerText()).replace(/\s+/g, ' ')}`);
    await shot('vscode-frames-traps.png');
    await expandPane('Call Stack'); // its header shows the next session's stops

    await page.locator('.debug-toolbar .action-label.codicon-debug-stop').click();
    await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: WAIT });
    step('session stopped');

    // A shadow-paged guest, stopped at the emulated PTE write: the Shadows view.
    await runCommand('View: Close All Editors');
    await openFile('shadow-pte-write.guest');
    await page.keyboard.press('F5');
    await page.locator('.debug-toolbar').waitFor({ state: 'visible', timeout: WAIT });
    await state.filter({ hasText: /entry/i }).waitFor({ timeout: WAIT });
    await expandPane('Breakpoints');
    await toggleFilter('Control register writes');
    await toggleFilter('Shadow write emulation');
    step('Breakpoints: "Shadow write emulation" instead of "Control register writes"');
    await collapsePane('Breakpoints');
    // Continue from emulated write to emulated write until the guest's PTE write into its L1 (gfn 3).
    for (let stops = 1; ; stops++) {
      const before = await state.textContent();
      await page.locator('.debug-toolbar .action-label.codicon-debug-continue').click();
      await page.waitForFunction(
        (old) => {
          const text = document.querySelector('.call-stack-state-message')?.textContent ?? '';
          return text.includes('emulate') && text !== old;
        },
        before,
        { timeout: WAIT },
      );
      const text = (await state.textContent()) ?? '';
      step(`stopped: ${text}`);
      if (text.includes('gfn 0x3')) break;
      if (stops === 12) throw new Error('no emulated write to the L1 (gfn 0x3) in 12 stops');
    }
    for (const title of ['Frames', 'Traps', 'Call Stack']) await collapsePane(title);
    await expandPane('Shadows');
    const l1 = rowIn('Shadows', 'L1 gfn 0x3');
    await l1.waitFor({ timeout: WAIT });
    const l1Text = (await l1.innerText()).replace(/\s+/g, ' ');
    if (!/shadowed · write-protected/.test(l1Text))
      throw new Error(`the guest L1 should be shadowed and write-protected: '${l1Text}'`);
    step(`Shadows: ${l1Text}`);
    await shot('vscode-shadows.png');
    await runCommand('Pagewalk: Open Page-Table Explorer');
    const shadowFrame = page.locator('iframe.webview.ready').last().contentFrame().locator('iframe#active-frame').contentFrame(); // prettier-ignore
    await shadowFrame.locator('#domain', { hasText: 'g.vcpu0' }).waitFor({ timeout: WAIT });
    await shadowFrame.locator('#shadow:not([hidden])').waitFor({ timeout: WAIT });
    step('explorer shows the guest L4 beside its shadow');
    await runCommand('View: Close Editors in Other Groups'); // the explorer gets the editor area's width
    await shot('vscode-explorer-shadow.png');
    await page.locator('.debug-toolbar .action-label.codicon-debug-stop').click();
    await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: WAIT });
    step('session stopped');
    return { passed: 1, failed: 0 };
  } catch (e) {
    log(`ui: FAILED: ${e instanceof Error ? e.message : e}`);
    await page.screenshot({ path: join(runDir, 'failure.png') }).catch(() => undefined);
    const sidebar = await page
      .locator('.part.sidebar')
      .innerText()
      .catch(() => '');
    writeFileSync(join(runDir, 'failure-sidebar.txt'), sidebar);
    log(`ui: see ${runDir}/failure.png and failure-sidebar.txt`);
    return { passed: 0, failed: 1 };
  } finally {
    await browser.close();
    server.stop();
  }
}
