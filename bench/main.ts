/**
 * `npm run bench`: every performance figure of the project, each printed with its unit and, where
 * it has one, the baseline measured in the same run and the ratio. Timings are never asserted in
 * unit tests; they live here. `npm run bench -- pv shadow` runs only the suites named.
 */
import { runAdapterBench } from './adapterBench';
import type { BenchResult } from './benchResult';
import { interpreterBench, walkerBench } from './engineBench';
import { runPvBench } from './pvBench';
import { runShadowBench } from './shadowBench';

type Suite = { name: string; run: () => BenchResult[] | Promise<BenchResult[]> };

function format(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3);
}

const SUITES: Suite[] = [
  { name: 'engine', run: interpreterBench },
  { name: 'walker', run: walkerBench },
  { name: 'pv', run: runPvBench },
  { name: 'shadow', run: runShadowBench },
  { name: 'adapter', run: runAdapterBench },
];

/** Runs the suites whose names are given (all when none are), printing each figure as it comes. */
async function runBenchmarks(only: readonly string[]): Promise<void> {
  const unknown = only.filter((n) => !SUITES.some((s) => s.name === n));
  if (unknown.length > 0) {
    console.error(
      `unknown suite ${unknown.join(', ')}; the suites are ${SUITES.map((s) => s.name).join(', ')}`,
    );
    process.exitCode = 2;
    return;
  }
  for (const suite of SUITES.filter((s) => only.length === 0 || only.includes(s.name))) {
    console.log(`\n== ${suite.name}`);
    for (const r of await suite.run()) {
      let line = `${r.name}: ${format(r.value)} ${r.unit}`;
      if (r.baseline !== undefined) {
        line += ` | baseline (${r.baseline.name}): ${format(r.baseline.value)} → ratio ${(r.value / r.baseline.value).toFixed(2)}`;
      }
      if (r.target !== undefined) line += ` | target ${r.target}`;
      console.log(line);
    }
  }
}

void runBenchmarks(process.argv.slice(2));
