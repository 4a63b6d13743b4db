/** One figure a benchmark prints: a value with its unit, and the baseline it is compared with. */
export interface BenchResult {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** A figure measured in the same run to compare with (ratio = value / baseline.value). */
  readonly baseline?: { readonly name: string; readonly value: number };
  /** The target the issue sets, as text (`≥ 1M/s`). */
  readonly target?: string;
}

/** Runs `body` repeatedly for about `ms` milliseconds; returns operations per second. */
export function rate(body: () => number, ms = 400): number {
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    ops += body();
    now = performance.now();
  }
  return (ops * 1000) / (now - start);
}
