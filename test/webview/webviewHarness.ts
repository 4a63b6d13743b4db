/**
 * Drives one webview in headless Chromium the way VS Code hosts it: the page is the HTML of
 * `webview/html.ts`, served from a fake resource origin (VS Code's is `https://*.vscode-cdn.net`)
 * with its CSP and nonce, `acquireVsCodeApi` is stubbed to record what the page posts, and messages
 * from the "extension" are posted into the window.
 *
 * Each suite bundles its view into a temp directory with the options of `scripts/build.mjs`, rather
 * than running `npm run build`, so suites running in parallel (and other rooms building) never read a
 * half-written `dist/`.
 */
import { build } from 'esbuild';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { renderWebviewHtml } from '../../webview/html';
import type { WebviewKind } from '../../webview/html';

export const ROOT = join(__dirname, '..', '..');
const ORIGIN = 'https://pagewalk-webview.test';
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** A dark theme's variables, as VS Code injects them into every webview. */
const THEME: Record<string, string> = {
  '--vscode-foreground': '#cccccc',
  '--vscode-descriptionForeground': '#9d9d9d',
  '--vscode-editor-background': '#1e1e1e',
  '--vscode-editorWidget-background': '#252526',
  '--vscode-widget-border': '#303031',
  '--vscode-font-family': 'sans-serif',
  '--vscode-font-size': '13px',
  '--vscode-editor-font-family': 'monospace',
  '--vscode-editor-font-size': '12px',
  '--vscode-textLink-foreground': '#3794ff',
  '--vscode-errorForeground': '#f48771',
  '--vscode-charts-green': '#89d185',
  '--vscode-charts-yellow': '#cca700',
  '--vscode-charts-orange': '#d18616',
  '--vscode-charts-red': '#f14c4c',
  '--vscode-charts-blue': '#3794ff',
  '--vscode-charts-purple': '#b180d7',
  '--vscode-list-hoverBackground': '#2a2d2e',
  '--vscode-editorHoverWidget-background': '#252526',
  '--vscode-editorHoverWidget-border': '#454545',
  '--vscode-inputValidation-errorBackground': '#5a1d1d',
};

export async function bundleView(kind: WebviewKind): Promise<string> {
  const outfile = join(mkdtempSync(join(tmpdir(), 'pagewalk-webview-')), `${kind}.js`);
  await build({
    entryPoints: [join(ROOT, 'webview', kind, 'main.ts')],
    outfile,
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    logLevel: 'error',
  });
  return outfile;
}

export async function launchBrowser(): Promise<Browser> {
  for (let i = 0; i < 120 && !existsSync(CHROMIUM); i++) await new Promise((r) => setTimeout(r, 1000));
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

export interface OpenedView {
  page: Page;
  /** Console errors and CSP violations the page reported. */
  errors: string[];
}

export async function openView(browser: Browser, kind: WebviewKind, script: string): Promise<OpenedView> {
  const page = await browser.newPage({ viewport: { width: 960, height: 640 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  const html = renderWebviewHtml(kind, {
    cspSource: ORIGIN,
    nonce: 'dGVzdC1ub25jZS0xMjM0',
    scriptUri: `${ORIGIN}/main.js`,
    codiconsUri: `${ORIGIN}/codicon.css`,
  });
  const codicons = join(ROOT, 'node_modules', '@vscode', 'codicons', 'dist');
  const files: Record<string, [string, string]> = {
    '/main.js': [script, 'text/javascript'],
    '/codicon.css': [join(codicons, 'codicon.css'), 'text/css'],
    '/codicon.ttf': [join(codicons, 'codicon.ttf'), 'font/ttf'],
  };
  await page.route(`${ORIGIN}/**`, (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === '/index.html') return route.fulfill({ body: html, contentType: 'text/html' });
    const file = files[path];
    if (!file) return route.fulfill({ status: 404 });
    return route.fulfill({ body: readFileSync(file[0]), contentType: file[1] });
  });
  await page.route(
    (url) => !url.href.startsWith(ORIGIN),
    (route) => route.abort(),
  );
  await page.addInitScript(`
    window.__posted = [];
    window.__state = undefined;
    window.acquireVsCodeApi = () => ({
      postMessage: (m) => window.__posted.push(m),
      getState: () => window.__state,
      setState: (s) => { window.__state = s; },
    });
  `);
  await page.goto(`${ORIGIN}/index.html`);
  await page.evaluate((theme) => {
    const style = (globalThis as unknown as { document: { documentElement: { style: CSSStyleLike } } })
      .document.documentElement.style;
    for (const [k, v] of Object.entries(theme)) style.setProperty(k, v);
  }, THEME);
  return { page, errors };
}

interface CSSStyleLike {
  setProperty(name: string, value: string): void;
}

/**
 * Posts `message` into the page and resolves once the page has handled it: window messages are
 * delivered in order, so a sentinel posted right after arrives after the view's handler ran.
 */
export async function postToView(page: Page, message: unknown): Promise<void> {
  await page.evaluate(
    (m) =>
      new Promise<void>((resolve) => {
        const win = globalThis as unknown as {
          postMessage(m: unknown, target: string): void;
          addEventListener(type: 'message', f: (e: { data: unknown }) => void): void;
          removeEventListener(type: 'message', f: (e: { data: unknown }) => void): void;
        };
        const sentinel = { __sync: Math.random() };
        const onMessage = (e: { data: unknown }): void => {
          if ((e.data as { __sync?: number } | null)?.__sync !== sentinel.__sync) return;
          win.removeEventListener('message', onMessage);
          resolve();
        };
        win.addEventListener('message', onMessage);
        win.postMessage(m, '*');
        win.postMessage(sentinel, '*');
      }),
    message,
  );
}

export async function postedMessages(page: Page): Promise<{ type: string; [key: string]: unknown }[]> {
  return page.evaluate(() => (globalThis as unknown as { __posted: { type: string }[] }).__posted);
}

export async function pwned(page: Page): Promise<unknown> {
  return page.evaluate(() => (globalThis as unknown as { __pwned?: unknown }).__pwned);
}

export const HOSTILE = '<img src=x onerror="window.__pwned=1">';
const SCREENSHOT_DIR = join(ROOT, 'test', 'webview', 'screenshots');

/**
 * Where a test's screenshot goes: a git-ignored folder, so that `npm test` never changes tracked
 * files; `PAGEWALK_UPDATE_SCREENSHOTS=1` writes the README's pictures in docs/images instead.
 */
export function screenshotPath(name: string): string {
  const dir = process.env.PAGEWALK_UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'images') : SCREENSHOT_DIR;
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
