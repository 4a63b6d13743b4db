// `npm run bench`: bundles bench/ (and the optional suites other rooms add) and runs it.
import { build } from 'esbuild';
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';

const optional = [
  ['bench/pvBench.ts', 'runPvBench', 'PV memory manager'],
  ['bench/shadowBench.ts', 'runShadowBench', 'shadow paging'],
  ['bench/adapterBench.ts', 'runAdapterBench', 'debug adapter'],
];
const present = optional.filter(([path]) => existsSync(path));
mkdirSync('dist', { recursive: true });
const entry = [
  `import { runBenchmarks } from '../bench/main';`,
  ...present.map(([path, fn], i) => `import { ${fn} as s${i} } from '../${path.replace(/\.ts$/, '')}';`),
  `await runBenchmarks([${present.map(([, , name], i) => `{ name: ${JSON.stringify(name)}, run: s${i} }`).join(', ')}]);`,
].join('\n');
writeFileSync('dist/bench-entry.ts', entry);
await build({
  entryPoints: ['dist/bench-entry.ts'],
  outfile: 'dist/bench.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});
await import(new URL('../dist/bench.mjs', import.meta.url));
