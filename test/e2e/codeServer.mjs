/* global fetch, setTimeout */
// Starts and stops a hermetic code-server (vscode-e2e.md §2): a fresh profile, its own XDG/TMP
// folders, one process group so `kill -- -pgid` ends the server and every child it forked.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'workbench.colorTheme': 'Default Dark Modern',
  'window.commandCenter': false,
};

/** The environment of every process of one run: nothing written to $HOME (pitfalls 7, 8.5). */
export function runEnv(runDir, node24Dir) {
  for (const d of ['xdg-data', 'xdg-config', 'xdg-cache', 'tmp'])
    mkdirSync(join(runDir, d), { recursive: true });
  return {
    ...process.env,
    PATH: `${join(node24Dir, 'bin')}:${process.env.PATH}`,
    XDG_DATA_HOME: join(runDir, 'xdg-data'),
    XDG_CONFIG_HOME: join(runDir, 'xdg-config'),
    XDG_CACHE_HOME: join(runDir, 'xdg-cache'),
    TMPDIR: join(runDir, 'tmp'),
  };
}

/** A fresh profile: user data with the quiet settings, an empty extensions dir, a config file. */
export function prepareProfile(runDir, port, settings = {}) {
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(join(runDir, 'user-data', 'User'), { recursive: true });
  mkdirSync(join(runDir, 'extensions'), { recursive: true });
  writeFileSync(join(runDir, 'config.yaml'), `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  writeFileSync(
    join(runDir, 'user-data', 'User', 'settings.json'),
    JSON.stringify({ ...SETTINGS, ...settings }, null, 1),
  );
}

/** `--install-extension x.vsix` with the server not running; fails unless it reports success. */
export function installVsix(tools, runDir, vsix) {
  const out = execFileSync(
    tools.node24,
    [tools.codeServer, '--config', join(runDir, 'config.yaml'), '--user-data-dir', join(runDir, 'user-data'),
      '--extensions-dir', join(runDir, 'extensions'), '--install-extension', vsix], // prettier-ignore
    { env: runEnv(runDir, tools.node24Dir), encoding: 'utf8' },
  );
  if (!/successfully installed/i.test(out)) throw new Error(`installing ${vsix} failed:\n${out}`);
}

export async function startCodeServer(tools, runDir, port, { smokeTestDriver = false } = {}) {
  const log = openSync(join(runDir, 'code-server.log'), 'w');
  const args = [
    tools.codeServer, '--config', join(runDir, 'config.yaml'), '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
    '--reconnection-grace-time', '5', '--user-data-dir', join(runDir, 'user-data'),
    '--extensions-dir', join(runDir, 'extensions'),
    ...(smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
  ]; // prettier-ignore
  const child = spawn(tools.node24, args, {
    env: runEnv(runDir, tools.node24Dir),
    detached: true, // its own process group: stop() ends the server and its forks together
    stdio: ['ignore', log, log],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`code-server exited with ${child.exitCode}; see ${runDir}/code-server.log`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('code-server did not answer /healthz within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    stop() {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    },
  };
}

export async function launchChromium(runDir) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: process.env.PAGEWALK_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'], // prettier-ignore
    env: {
      ...process.env,
      XDG_CONFIG_HOME: join(runDir, 'xdg-chromium'),
      XDG_CACHE_HOME: join(runDir, 'xdg-cache'),
    },
  });
}
