/**
 * Run control in-process (no DAP): long histories keep a bounded number of checkpoints, and a
 * debugger poke stays part of the history however the position is reached again (restore of a
 * checkpoint, replay through the poked step, a fresh forward run after going back).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadEngine } from '../../engine/engine';
import { createDebuggee } from '../../debug-adapter/debuggee';
import type { Debuggee } from '../../debug-adapter/debuggee';
import { parseMemoryReference, readMemory, writeMemory } from '../../debug-adapter/memory';
import { fixture } from './adapterClient';

function launch(): Debuggee {
  const file = fixture('loop.guest');
  const { engine } = loadEngine(readFileSync(file, 'utf8'), file);
  if (engine === null) throw new Error('loop.guest does not load');
  const noop = (): void => undefined;
  return createDebuggee(engine, file, 10_000_000, { output: noop, events: noop, stopped: noop, ended: noop });
}

async function runTo(d: Debuggee, position: number): Promise<void> {
  await d.run.forward(() => d.run.position >= position);
  expect(d.run.position).toBe(position);
}

const CELL = 'gpa:web:0x8000';
function cell(d: Debuggee): bigint {
  return Buffer.from(readMemory(d.engine, parseMemoryReference(CELL, 0), 8).data, 'base64').readBigUInt64LE();
}
function poke(d: Debuggee, value: bigint): void {
  const data = Buffer.alloc(8);
  data.writeBigUInt64LE(value);
  writeMemory(d.engine, parseMemoryReference(CELL, 0), data);
  d.run.truncateHistory();
}
function n(d: Debuggee): string {
  return d.evaluator.evaluate('n', 0, 0, 'watch').result;
}

describe('run control', () => {
  it('keeps at most 1024 checkpoints (plus pinned ones) over 300k steps, and replays exactly', async () => {
    const d = launch();
    await runTo(d, 300_000);
    expect(d.run.checkpointCount).toBeLessThanOrEqual(1024);
    expect(d.run.checkpointCount).toBeGreaterThan(256);
    const atEnd = n(d);
    d.run.goTo(123_457);
    const mid = n(d);
    d.run.goTo(300_000);
    expect(n(d)).toBe(atEnd);
    d.run.goTo(123_457);
    expect(n(d)).toBe(mid);
    expect(BigInt(mid)).toBeLessThan(BigInt(atEnd));
  });

  it('replays a poke at its step: after a restore, through replay, and on a new forward run', async () => {
    const d = launch();
    await runTo(d, 100_001);
    poke(d, 0x77n);
    await runTo(d, 300_000);
    expect(cell(d)).toBe(0x77n);
    expect(d.run.checkpointCount).toBeLessThanOrEqual(1025);
    d.run.goTo(100_000);
    expect(cell(d)).toBe(0n);
    d.run.goTo(100_001); // one replayed step lands on the poked position
    expect(cell(d)).toBe(0x77n);
    d.run.goTo(50_000);
    d.run.goTo(200_000); // replay from a checkpoint below the poke, through it
    expect(cell(d)).toBe(0x77n);
    d.run.goTo(99_000);
    await runTo(d, 100_500); // a forward run (breakpoints asked) through the poked step
    expect(cell(d)).toBe(0x77n);
    // A second poke earlier drops the first one's future.
    d.run.goTo(40_000);
    poke(d, 0x99n);
    await runTo(d, 150_000);
    expect(cell(d)).toBe(0x99n);
    d.run.goTo(39_999);
    expect(cell(d)).toBe(0n);
  });
});
