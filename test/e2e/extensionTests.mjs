/* global setTimeout */
// Runs the mocha suite in test/e2e/suite inside code-server's extension host through VS Code's own
// extension test runner (vscode-e2e.md §5): the workbench is opened with a `payload` naming the
// extension under development and the tests; it reports the result through `codeAutomationExit`.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { launchChromium, prepareProfile, startCodeServer } from './codeServer.mjs';

export async function runExtensionTests({ tools, runDir, port, extensionPath, testsPath, workspace, log }) {
  prepareProfile(runDir, port);
  const server = await startCodeServer(tools, runDir, port, { smokeTestDriver: true });
  const browser = await launchChromium(runDir);
  const lines = [];
  try {
    const page = await browser.newPage();
    page.setDefaultNavigationTimeout(60_000);
    let finish;
    const exited = new Promise((resolve) => (finish = resolve));
    await page.exposeFunction('codeAutomationLog', (_level, msg) => {
      const text = String(msg);
      lines.push(text);
      if (/\[pagewalk-e2e\]|passing|failing|pending|^\s+(✔|✓|\d+\))|Error|AssertionError/.test(text))
        log(text.replace(/\s+$/, ''));
    });
    await page.exposeFunction('codeAutomationExit', (code, logs) => {
      for (const l of logs ?? []) lines.push(`--- ${l.relativePath}\n${l.contents}`);
      finish(code);
    });
    const payload = [
      ['extensionDevelopmentPath', `vscode-remote://remote${extensionPath}`],
      ['extensionTestsPath', `vscode-remote://remote${testsPath}`],
      ['skipWelcome', 'true'],
    ];
    await page.goto(`${server.base}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`); // prettier-ignore
    const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), 150_000));
    const code = await Promise.race([exited, timeout]);
    return code === 'timeout'
      ? { code: 1, timedOut: true, log: lines.join('\n') }
      : { code: Number(code), log: lines.join('\n') };
  } finally {
    writeFileSync(join(runDir, 'extension-tests.log'), lines.join('\n'));
    await browser.close();
    server.stop();
  }
}

/** Counts mocha's spec-reporter summary lines (`N passing`, `N failing`) in the forwarded log. */
export function mochaCounts(text) {
  const passing = /(\d+) passing/.exec(text);
  const failing = /(\d+) failing/.exec(text);
  return { passed: passing ? Number(passing[1]) : 0, failed: failing ? Number(failing[1]) : 0 };
}
