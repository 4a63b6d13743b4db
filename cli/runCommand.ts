/**
 * `pagewalk run FILE.guest [--json] [--max-steps N] [--trace]` (cli.md): runs every vCPU to its end
 * and reports as the contract says — exit 0 (ok), 1 (an expect failed), 2 (rejected), 3 (a run-time
 * error or the step limit).
 */
import { loadEngine } from '../engine/engine';
import type { Engine } from '../engine/engine';
import { formatTraceLine } from '../engine/events/eventJson';
import { formatDiagnostic } from '../engine/language';
import { runReport } from './runReport';
import type { RunStatus } from './runReport';

export const DEFAULT_MAX_STEPS = 10_000_000;

export interface RunOptions {
  readonly file: string;
  readonly json: boolean;
  readonly trace: boolean;
  readonly maxSteps: number;
}

export interface Io {
  stdout(line: string): void;
  stderr(line: string): void;
}

const EXIT: Record<RunStatus, number> = {
  ok: 0,
  'expect-failed': 1,
  rejected: 2,
  'runtime-error': 3,
  'step-limit': 3,
};

/** Runs the program; returns the exit code. `source` null: the file could not be read (`readError`). */
export function runProgram(
  source: string | null,
  readError: string | null,
  options: RunOptions,
  io: Io,
): number {
  const errors: string[] = [];
  const stderr = (line: string) => {
    errors.push(line);
    io.stderr(line);
  };
  if (source === null) {
    stderr(`pagewalk: error: ${readError ?? `cannot read ${options.file}`}`);
    if (options.json) io.stdout(JSON.stringify(runReport('rejected', null, [], errors)));
    return 2;
  }
  const { engine, diagnostics } = loadEngine(source, options.file);
  if (engine === null) {
    for (const d of diagnostics) stderr(formatDiagnostic(options.file, d));
    if (options.json) io.stdout(JSON.stringify(runReport('rejected', null, [], errors)));
    return 2;
  }
  const output: string[] = [];
  const status = runToEnd(engine, options, (line) => {
    if (line.stream === 'stdout') {
      output.push(line.text);
      if (!options.json) io.stdout(line.text);
    } else {
      stderr(line.text);
    }
  });
  if (options.json) io.stdout(JSON.stringify(runReport(status, engine, output, errors)));
  return EXIT[status];
}

function runToEnd(
  engine: Engine,
  options: RunOptions,
  emit: (line: { stream: 'stdout' | 'stderr'; text: string }) => void,
): RunStatus {
  let printed = 0;
  const flush = () => {
    while (printed < engine.output.length) emit(engine.output[printed++]);
  };
  if (options.trace && !options.json) {
    engine.machine.log.subscribe((event) => {
      flush();
      emit({ stream: 'stdout', text: formatTraceLine(event) });
    });
  }
  let runtimeError = false;
  while (!engine.finished) {
    if (engine.stepCount >= options.maxSteps) {
      const next = engine.interpreter.peekNext();
      if (next !== null) {
        engine.reportError(next.line, next.column, `step limit ${options.maxSteps} reached`);
        flush();
        return 'step-limit';
      }
      break;
    }
    const outcome = engine.step();
    flush();
    if (outcome.expectFailure !== null) return 'expect-failed';
    if (outcome.error !== null) runtimeError = true;
  }
  flush();
  return runtimeError ? 'runtime-error' : 'ok';
}
