/**
 * Every `examples/pv-*.guest` runs to the end without a failed expectation or a run-time error,
 * with the frame audit clean after every step.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { runPv } from './pvHarness';

const dir = join(__dirname, '..', '..', 'examples');
const files = readdirSync(dir).filter((f) => f.startsWith('pv-') && f.endsWith('.guest'));

describe('PV examples', () => {
  it('there are examples', () => expect(files.length).toBeGreaterThanOrEqual(7));
  for (const f of files) {
    it(f, () => {
      const source = readFileSync(join(dir, f), 'utf8');
      expect(source.startsWith(';')).toBe(true);
      const r = runPv(source, { audit: true });
      expect(r.stderr).toEqual([]);
      expect(r.engine.finished).toBe(true);
    });
  }
});
