/**
 * The entry VS Code's extension test runner calls (`extensionTestsPath`): runs the mocha suite in the
 * extension host. The same file works under `@vscode/test-electron` (desktop VS Code) and under
 * code-server's smoke-test driver (`test/e2e/run.mjs`).
 */
import { format } from 'node:util';
import type MochaType from 'mocha';

// mocha 12's package entry is ESM; its CommonJS build loads in any extension host (Electron included).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Mocha = require('mocha/lib/mocha.cjs') as typeof MochaType;

export function run(): Promise<void> {
  // The workbench forwards console output as one pre-joined string (vscode-e2e.md pitfall 13).
  (Mocha.reporters.Base as unknown as { consoleLog: (...a: unknown[]) => void }).consoleLog = (...a) =>
    console.log(format(...a));
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 30_000, reporter: 'spec', bail: true });
  // The suite is bundled into this file's folder by test/e2e/run.mjs.
  mocha.addFile(`${__dirname}/pagewalk.test.js`);
  return new Promise((resolve, reject) =>
    mocha.run((failures) => (failures ? reject(new Error(`${failures} tests failed.`)) : resolve())),
  );
}
