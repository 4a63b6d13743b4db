// Every program in examples/ checks itself with `expect`; this runs them all, as jlox's test
// programs carry their expected results and one runner checks them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runProgram } from '../../cli/runCommand';
import { loadEngine } from '../../engine/engine';

const dir = join(__dirname, '..', '..', 'examples');
const files = readdirSync(dir).filter((f) => f.endsWith('.guest'));

describe('examples', () => {
  for (const name of files) {
    const source = readFileSync(join(dir, name), 'utf8');
    // Kinds whose model is not built yet are rejected at load time; they join when it lands.
    const supported = loadEngine(source, name).engine !== null;
    it.skipIf(!supported)(`${name} runs to its end with every expect holding`, () => {
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
