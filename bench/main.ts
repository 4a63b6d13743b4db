/**
 * `npm run bench`: every performance figure of the project, each printed with its unit and, where
 * it has one, the baseline measured in the same run and the ratio. Timings are never asserted in
 * unit tests; they live here.
 */
import type { BenchResult } from './benchResult';
import { interpreterBench, walkerBench } from './engineBench';

type Suite = { name: string; run: () => BenchResult[] | Promise<BenchResult[]> };

function format(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3);
}

export async function runBenchmarks(extra: Suite[]): Promise<void> {
  const suites: Suite[] = [
    { name: 'engine', run: interpreterBench },
    { name: 'walker', run: walkerBench },
    ...extra,
  ];
  for (const suite of suites) {
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
