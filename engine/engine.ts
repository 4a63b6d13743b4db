/**
 * The engine facade: a loaded `.guest` program, the machine it runs on and the interpreter that
 * steps it. The CLI runs it to the end; the debug adapter steps it, inspects it, and travels in time
 * with `checkpoint`/`restore` (copy-on-write snapshots of memory and the frame table, plus small
 * copies of everything else) and deterministic replay.
 */
import type { EngineEvent } from './events/eventTypes';
import type { Diagnostic, InterpreterSnapshot, Program, StepOutcome } from './language';
import { Interpreter, formatExpectFailure, parseProgram } from './language';
import type { DomainKind } from './machine/domainModel';
import { Machine } from './machine/machine';
import type { MachineSnapshot, ModelFactory } from './machine/machine';
import { MODEL_FACTORIES } from './machine/modelFactories';

export interface EngineCheckpoint {
  readonly machine: MachineSnapshot;
  readonly interpreter: InterpreterSnapshot;
  readonly outputLength: number;
}

export interface LoadResult {
  readonly engine: Engine | null;
  readonly diagnostics: Diagnostic[];
}

/** A line the run wrote to stdout (`print`) or stderr (a diagnostic), in the order written. */
export interface OutputLine {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
  readonly step: number;
}

export function loadEngine(
  source: string,
  file: string,
  factories: Record<DomainKind, ModelFactory> = MODEL_FACTORIES,
): LoadResult {
  const { program, diagnostics } = parseProgram(source, file);
  if (program === null) return { engine: null, diagnostics };
  return { engine: new Engine(program, factories), diagnostics: [] };
}

export class Engine {
  readonly machine: Machine;
  readonly interpreter: Interpreter;
  /** Everything the run printed and reported, in order. */
  readonly output: OutputLine[] = [];

  constructor(
    readonly program: Program,
    factories: Record<DomainKind, ModelFactory>,
  ) {
    this.machine = new Machine(
      {
        poolBytes: program.poolMemory,
        domains: program.domains.map((d) => ({
          name: d.name,
          id: d.id,
          kind: d.kind,
          memory: d.memory,
          vcpus: d.vcpus,
          privileged: d.privileged,
          paging: d.kind === 'hvm' ? (d.paging ?? 'shadow') : null,
        })),
      },
      factories,
    );
    this.interpreter = new Interpreter(program, this.machine, (text) =>
      this.output.push({ stream: 'stdout', text, step: this.interpreter.stepCount }),
    );
  }

  get file(): string {
    return this.program.file;
  }

  get events(): readonly EngineEvent[] {
    return this.machine.log.all();
  }

  get finished(): boolean {
    return this.interpreter.finished;
  }

  get stepCount(): number {
    return this.interpreter.stepCount;
  }

  /** Runs one step; run-time errors and failed expectations are added to `output` as stderr lines. */
  step(): StepOutcome {
    const outcome = this.interpreter.step();
    if (outcome.error !== null)
      this.reportError(outcome.error.line, outcome.error.column, outcome.error.message);
    if (outcome.expectFailure !== null) {
      for (const text of formatExpectFailure(this.file, outcome.expectFailure)) {
        this.output.push({ stream: 'stderr', text, step: outcome.step });
      }
    }
    return outcome;
  }

  /** Adds a `FILE:LINE:COL: runtime error: MESSAGE` line. */
  reportError(line: number, column: number, message: string): void {
    this.output.push({
      stream: 'stderr',
      text: `${this.file}:${line}:${column}: runtime error: ${message}`,
      step: this.interpreter.stepCount,
    });
  }

  checkpoint(): EngineCheckpoint {
    return {
      machine: this.machine.snapshot(),
      interpreter: this.interpreter.snapshot(),
      outputLength: this.output.length,
    };
  }

  restore(cp: EngineCheckpoint): void {
    this.machine.restore(cp.machine);
    this.interpreter.restore(cp.interpreter);
    this.output.length = cp.outputLength;
  }
}
