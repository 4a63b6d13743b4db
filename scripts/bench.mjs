// `npm run bench [-- SUITE…]`: bundles bench/ for Node and runs it (bench/main.ts lists the suites).
import { build } from 'esbuild';

await build({
  entryPoints: ['bench/main.ts'],
  outfile: 'dist/bench.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});
await import(new URL('../dist/bench.mjs', import.meta.url));
