/**
 * The guest language's public face, for the engine facade, the CLI and the debug adapter.
 *
 *   const { program, diagnostics } = parseProgram(source, file);   // load-time errors, sorted
 *   const interp = new Interpreter(program, host, (line) => stdout(line));
 *   while (!interp.finished) { const o = interp.step(); … }            // one step of one vCPU
 *
 * See `guest-language.md` for what every piece means.
 */
export { parseProgram, breakpointLine } from './program';
export type { Program, ParseProgramResult, DomainInfo, VcpuBlock, ProcInfo } from './program';
export { formatDiagnostic } from './diagnostic';
export type { Diagnostic } from './diagnostic';
export { Interpreter } from './interpreter';
export { MAX_CALL_DEPTH } from './threadState';
export type { StepOutcome, StepKind, PrintSink } from './interpreter';
export type { ThreadInfo, ThreadState, FrameView, InterpreterSnapshot } from './threadState';
export { parseExpression } from './evaluator';
export { formatRuntimeError, formatExpectFailure, describeExpectFailure } from './reports';
export type { RuntimeErrorReport, ExpectFailure, ReportedValue } from './reports';
export { hex as formatValue } from './expressionCompiler';
export { BUILTIN_CONSTANTS, REGISTERS, isBuiltinFunction } from './builtins';
export { KEYWORDS } from './token';
export * from './host';
