/**
 * Runs `.guest` programs with the PV model (and whatever other models the engine has) for the PV
 * tests, and small helpers to read the result.
 */
import { loadEngine } from '../../engine/engine';
import type { Engine } from '../../engine/engine';
import type { EngineEvent } from '../../engine/events/eventTypes';
import { auditFrames } from '../../engine/pv/frameAudit';

export interface RunResult {
  engine: Engine;
  stderr: string[];
  stdout: string[];
  events: readonly EngineEvent[];
}

export function loadPv(source: string, file = 'test.guest'): Engine {
  const { engine, diagnostics } = loadEngine(source, file);
  if (engine === null)
    throw new Error(diagnostics.map((d) => `${d.line}:${d.column}: ${d.message}`).join('\n'));
  return engine;
}

/** Runs to the end; with `audit`, audits the frame table after every step and throws on a violation. */
export function runPv(source: string, opts: { audit?: boolean; maxSteps?: number } = {}): RunResult {
  const engine = loadPv(source);
  const max = opts.maxSteps ?? 100_000;
  for (let i = 0; i < max && !engine.finished; i++) {
    const o = engine.step();
    if (opts.audit) {
      const a = auditFrames(engine.machine);
      if (a.count > 0)
        throw new Error(
          `audit after step ${o.step} (line ${o.line}): ${a.violations.map((v) => v.message).join('; ')}`,
        );
    }
  }
  return {
    engine,
    stderr: engine.output.filter((l) => l.stream === 'stderr').map((l) => l.text),
    stdout: engine.output.filter((l) => l.stream === 'stdout').map((l) => l.text),
    events: engine.events,
  };
}

export function eventsOf(r: RunResult, cls: string): EngineEvent[] {
  return r.events.filter((e) => e.class === cls);
}
