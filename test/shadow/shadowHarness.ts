/**
 * Runs `.guest` programs with shadow paging for the tests: the engine facade with the shadow
 * model, the shadow audit after every step (a violation fails the run), and helpers to read the
 * events of the steps that ran a given source line.
 */
import type { EngineEvent } from '../../engine/events/eventTypes';
import { loadEngine } from '../../engine/engine';
import type { Engine } from '../../engine/engine';
import { auditShadows } from '../../engine/shadow/shadowAudit';
import type { ShadowModel } from '../../engine/shadow/shadowModel';

export interface ShadowRun {
  readonly engine: Engine;
  readonly events: readonly EngineEvent[];
  readonly stderr: string[];
  readonly stdout: string[];
  readonly audits: number;
}

export function loadShadow(source: string, file = 'test.guest'): Engine {
  const { engine, diagnostics } = loadEngine(source, file);
  if (engine === null)
    throw new Error(diagnostics.map((d) => `${d.line}:${d.column}: ${d.message}`).join('\n'));
  return engine;
}

/** Runs to the end, auditing every shadowed domain after every step; throws on a violation. */
export function runShadow(source: string, options: { audit?: boolean; maxSteps?: number } = {}): ShadowRun {
  const engine = loadShadow(source);
  let audits = 0;
  const max = options.maxSteps ?? 100_000;
  while (!engine.finished && engine.stepCount < max) {
    const outcome = engine.step();
    if (options.audit === false) continue;
    for (const d of engine.machine.domains) {
      if (d.kind !== 'hvm-shadow') continue;
      const audit = auditShadows(engine.machine, d);
      audits++;
      if (audit.count > 0) {
        throw new Error(
          `shadow audit after step ${outcome.step} (line ${outcome.line}):\n` +
            audit.violations.map((v) => `  ${v.rule} ${v.message}`).join('\n'),
        );
      }
    }
  }
  return {
    engine,
    events: engine.events,
    stderr: engine.output.filter((o) => o.stream === 'stderr').map((o) => o.text),
    stdout: engine.output.filter((o) => o.stream === 'stdout').map((o) => o.text),
    audits,
  };
}

export function shadowModelOf(engine: Engine, domain: string): ShadowModel {
  return engine.machine.domain(domain)!.model as ShadowModel;
}

/** Events logged by the statements on a source line (class and the fields named). */
export function eventsAt(run: ShadowRun, line: number): EngineEvent[] {
  return run.events.filter((e) => e.line === line);
}

export function classesAt(run: ShadowRun, line: number): string[] {
  return eventsAt(run, line).map((e) => e.class);
}

/** The 1-based line of the first line containing `marker` (a comment tag like `; @emul`). */
export function lineOf(source: string, marker: string): number {
  const i = source.split('\n').findIndex((l) => l.includes(marker));
  if (i < 0) throw new Error(`no line with ${marker}`);
  return i + 1;
}
