// `node test/e2e/run.mjs`: Pagewalk's end-to-end tests in a real VS Code (code-server) driven by
// Debian's Chromium, following /work/shared/docs/vscode-e2e.md.
//   1. extension tests: the mocha suite in test/e2e/suite, run by VS Code's extension test runner in
//      the extension host, with the repository as extensionDevelopmentPath;
//   2. the UI test: the packaged VSIX installed into a fresh profile, used like a person would.
// Tools (Node 24, code-server) are installed once into ~/.cache/pagewalk-e2e. Exits non-zero on any
// failure and prints `N passed, N failed`. `--only ext|ui` runs one part. Screenshots go to
// test/e2e/run/screenshots, or with PAGEWALK_UPDATE_SCREENSHOTS=1 to docs/images for the README.
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { ensureTools } from './install.mjs';
import { mochaCounts, runExtensionTests } from './extensionTests.mjs';
import { runUiTest } from './uiTest.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const runRoot = join(here, 'run');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
const log = (...a) => console.log('[e2e]', ...a);
const seconds = (t) => `${((Date.now() - t) / 1000).toFixed(1)} s`;

let passed = 0;
let failed = 0;
const timings = [];
const started = Date.now();

async function phase(name, work) {
  const t = Date.now();
  try {
    await work();
  } finally {
    timings.push(`${name} ${seconds(t)}`);
  }
}

try {
  const chromium = process.env.PAGEWALK_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(chromium))
    throw new Error(`${chromium} is missing: apt-get install -y --no-install-recommends chromium`);
  let tools;
  await phase('tools', () => (tools = ensureTools(log)));
  mkdirSync(runRoot, { recursive: true });

  // A workspace of its own, so the run never writes into the repository's folders.
  const workspace = join(runRoot, 'workspace');
  rmSync(workspace, { recursive: true, force: true });
  cpSync(join(repo, 'examples'), join(workspace, 'examples'), { recursive: true });

  await phase('build', async () => {
    execFileSync('node', ['scripts/build.mjs'], { cwd: repo, stdio: 'inherit' });
    await build({
      entryPoints: {
        index: join(here, 'suite/index.ts'),
        'pagewalk.test': join(here, 'suite/pagewalk.test.ts'),
      },
      outdir: join(runRoot, 'suite'),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['vscode', 'mocha/*', 'mocha'],
      logLevel: 'warning',
    });
  });

  if (only !== 'ui') {
    await phase('extension tests', async () => {
      const r = await runExtensionTests({
        tools,
        runDir: join(runRoot, 'ext'),
        port: 8771,
        extensionPath: repo,
        testsPath: join(runRoot, 'suite', 'index.js'),
        workspace,
        log: (line) => console.log(`  ${line}`),
      });
      const counts = mochaCounts(r.log);
      if (r.timedOut) log('extension tests timed out; see test/e2e/run/ext/extension-tests.log');
      passed += counts.passed;
      failed += counts.failed + (r.code !== 0 && counts.failed === 0 ? 1 : 0);
      log(`extension tests: exit code ${r.code}, ${counts.passed} passing, ${counts.failed} failing`);
    });
  }

  if (only !== 'ext') {
    await phase('ui test', async () => {
      const vsix = join(runRoot, 'pagewalk.vsix');
      execFileSync('node', ['scripts/package.mjs', vsix], {
        cwd: repo,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const r = await runUiTest({
        tools,
        runDir: join(runRoot, 'ui'),
        port: 8772,
        vsix,
        workspace,
        // npm test must not change tracked files: the README's pictures only when asked for.
        screenshots:
          process.env.PAGEWALK_UPDATE_SCREENSHOTS === '1'
            ? join(repo, 'docs', 'images')
            : join(runRoot, 'screenshots'),
        log: (line) => console.log(`  ${line}`),
      });
      passed += r.passed;
      failed += r.failed;
    });
  }
} catch (e) {
  failed++;
  console.error('[e2e] error:', e instanceof Error ? (e.stack ?? e.message) : e);
}

log(`timings: ${timings.join(', ')}; total ${seconds(started)}`);
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
