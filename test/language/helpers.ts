/** Shared helpers for the language tests: load a program or fail with its diagnostics, run it to the end. */
import { parseProgram } from '../../engine/language/program';
import type { Program } from '../../engine/language/program';
import { formatDiagnostic } from '../../engine/language/diagnostic';
import { Interpreter } from '../../engine/language/interpreter';
import type { StepOutcome } from '../../engine/language/interpreter';
import { FakeHost } from './fakeHost';

/** Joins lines, so that test sources can be written one line per array element. */
export function src(...lines: string[]): string {
  return lines.join('\n') + '\n';
}

export function load(source: string): Program {
  const { program, diagnostics } = parseProgram(source, 't.guest');
  if (!program) throw new Error(diagnostics.map((d) => formatDiagnostic('t.guest', d)).join('\n'));
  return program;
}

/** The diagnostics of a file, formatted `LINE:COL: MESSAGE`. */
export function errors(source: string): string[] {
  return parseProgram(source, 't.guest').diagnostics.map((d) => `${d.line}:${d.column}: ${d.message}`);
}

export interface Run {
  readonly host: FakeHost;
  readonly interp: Interpreter;
  readonly output: string[];
  readonly outcomes: StepOutcome[];
}

export function start(source: string, host = new FakeHost()): Run {
  const output: string[] = [];
  const interp = new Interpreter(load(source), host, (line) => output.push(line));
  return { host, interp, output, outcomes: [] };
}

export function run(source: string, maxSteps = 100_000, host = new FakeHost()): Run {
  const r = start(source, host);
  while (!r.interp.finished && r.outcomes.length < maxSteps) r.outcomes.push(r.interp.step());
  return r;
}
