// Builds every bundle with esbuild: the CLI, the debug adapter, the extension and the webviews.
// Entries whose source does not exist yet are skipped, so each room can land on its own.
import { build } from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const define = { PAGEWALK_VERSION: JSON.stringify(pkg.version) };

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  define,
  logLevel: 'warning',
};
const browser = {
  bundle: true,
  platform: 'browser',
  target: 'es2022',
  format: 'iife',
  sourcemap: true,
  define,
  logLevel: 'warning',
};

const entries = [
  { in: 'cli/main.ts', out: 'dist/cli.js', ...node },
  { in: 'debug-adapter/main.ts', out: 'dist/debugAdapter.js', ...node },
  { in: 'extension/extension.ts', out: 'dist/extension.js', ...node, external: ['vscode'] },
  { in: 'webview/explorer/main.ts', out: 'dist/webview/explorer.js', ...browser },
  { in: 'webview/frameMap/main.ts', out: 'dist/webview/frameMap.js', ...browser },
  { in: 'webview/timeline/main.ts', out: 'dist/webview/timeline.js', ...browser },
];

const started = Date.now();
await Promise.all(
  entries
    .filter((e) => existsSync(new URL(`../${e.in}`, import.meta.url)))
    .map(({ in: entry, out, ...options }) => build({ entryPoints: [entry], outfile: out, ...options })),
);
console.log(`built in ${Date.now() - started} ms`);
