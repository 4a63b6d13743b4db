// Every program in examples/ checks itself with `expect`; this runs them all, as jlox's test
// programs carry their expected results and one runner checks them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runProgram } from '../../cli/runCommand';

const dir = join(__dirname, '..', '..', 'examples');
const files = readdirSync(dir).filter((f) => f.endsWith('.guest'));

describe('examples', () => {
  for (const name of files) {
    const source = readFileSync(join(dir, name), 'utf8');
    it(`${name} runs to its end with every expect holding`, () => {
      const errors: string[] = [];
      const code = runProgram(
        source,
        null,
        { file: name, json: false, trace: false, maxSteps: 10_000_000 },
        {
          stdout: () => {},
          stderr: (l) => errors.push(l),
        },
      );
      expect(errors).toEqual([]);
      expect(code).toBe(0);
    });
  }
});
