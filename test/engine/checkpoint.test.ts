// Reverse execution stands on this: checkpoint, run on, restore, replay — and land in exactly the
// same state, bit for bit: memory, frame table, registers, TLBs, events and output.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../engine/engine';
import { loadEngine } from '../../engine/engine';
import { eventToJson } from '../../engine/events/eventJson';

function load(name: string): Engine {
  const source = readFileSync(join(__dirname, '..', '..', 'examples', name), 'utf8');
  const { engine, diagnostics } = loadEngine(source, name);
  expect(diagnostics).toEqual([]);
  return engine!;
}

/** Everything observable about the engine, as comparable text. */
function digest(engine: Engine): string {
  const m = engine.machine;
  const frames = [...m.memory.touchedFrames()].sort((a, b) => a - b);
  const memory = frames.map((mfn) => `${mfn}:${Array.from(m.memory.frameWords(mfn)).join(',')}`);
  const table = [...m.frameTable.candidateFrames()].map(
    (mfn) =>
      `${mfn}:${m.frameTable.owner(mfn)}/${m.frameTable.refCount(mfn)}/${m.frameTable.type(mfn)}/${m.frameTable.typeCount(mfn)}/${m.frameTable.validated(mfn)}/${m.frameTable.pinned(mfn)}`,
  );
  const vcpus = m
    .allVcpus()
    .map((v) =>
      JSON.stringify({ ...v.state, tlb: v.tlb.all() }, (_k, x) =>
        typeof x === 'bigint' ? x.toString(16) : x,
      ),
    );
  const threads = engine.interpreter
    .threads()
    .map((t, i) =>
      JSON.stringify([t, engine.interpreter.frames(i)], (_k, x) =>
        typeof x === 'bigint' ? x.toString(16) : x,
      ),
    );
  return JSON.stringify({
    memory,
    table,
    vcpus,
    threads,
    steps: engine.stepCount,
    events: engine.events.map(eventToJson),
    output: engine.output,
  });
}

function runSteps(engine: Engine, n: number): void {
  for (let i = 0; i < n && !engine.finished; i++) engine.step();
}

function runToEnd(engine: Engine): void {
  while (!engine.finished) engine.step();
}

describe('checkpoint and restore', () => {
  for (const example of ['hap-stale-tlb.guest', 'hap-protection-faults.guest', 'hap-large-pages.guest']) {
    it(`${example}: restore + replay reproduces the run bit for bit`, () => {
      const fresh = load(example);
      runToEnd(fresh);
      const expected = digest(fresh);

      const engine = load(example);
      runSteps(engine, 12);
      const midDigest = digest(engine);
      const cp = engine.checkpoint();
      runToEnd(engine);
      expect(digest(engine)).toBe(expected);

      engine.restore(cp);
      expect(digest(engine)).toBe(midDigest);
      runToEnd(engine);
      expect(digest(engine)).toBe(expected);

      // A second restore from the same checkpoint is as good as the first.
      engine.restore(cp);
      expect(digest(engine)).toBe(midDigest);
    });
  }

  it('a write after a checkpoint does not leak into it (copy-on-write)', () => {
    const engine = load('hap-paging-on.guest');
    runSteps(engine, 11); // the tables are written, paging is not on yet
    const cp = engine.checkpoint();
    const before = digest(engine);
    runToEnd(engine);
    expect(digest(engine)).not.toBe(before);
    engine.restore(cp);
    expect(digest(engine)).toBe(before);
  });
});
