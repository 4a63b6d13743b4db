/**
 * What a run reports when it stops a vCPU or ends: run-time errors and failed expectations, in the
 * shapes `cli.md` prints and `events.md` §3 (`expect_failed`) logs.
 */
import type { ExpectInfo } from './compiler';
import { hex } from './expressionCompiler';
import type { VcpuHost } from './host';
import type { Frame } from './threadState';

export interface RuntimeErrorReport {
  /** The thread (index into `Interpreter.threads()`) whose statement failed. */
  readonly thread: number;
  readonly step: number;
  readonly line: number;
  /** The statement's first character. */
  readonly column: number;
  readonly message: string;
  /** 'domain': the domain crashed and every vCPU of it stopped. */
  readonly scope: 'vcpu' | 'domain';
  /** Every thread this error stopped (the failing one first). */
  readonly stopped: readonly number[];
}

export interface ReportedValue {
  readonly name: string;
  /** A number, or for `fault` its name (`NOFAULT`, `PF`, `GP`) when it has one. */
  readonly value: bigint | string;
}

export interface ExpectFailure {
  readonly thread: number;
  readonly step: number;
  readonly line: number;
  /** The column of the `expect` keyword. */
  readonly column: number;
  /** The expression as written, without message and comment, trimmed. */
  readonly text: string;
  readonly message: string | null;
  readonly values: readonly ReportedValue[];
  /** The procs the `expect` is nested in, innermost first, with the line each was called from. */
  readonly callChain: readonly { readonly proc: string; readonly calledFrom: number }[];
}

const FAULT_NAMES = new Map<bigint, string>([
  [0n, 'NOFAULT'],
  [13n, 'GP'],
  [14n, 'PF'],
]);

/** The value the report shows for a register: `fault` by name, the others as numbers. */
export function registerReportValue(name: string, value: bigint): bigint | string {
  return name === 'fault' ? (FAULT_NAMES.get(value) ?? value) : value;
}

/** `FILE:LINE:COL: runtime error: MESSAGE` (`cli.md`). */
export function formatRuntimeError(
  file: string,
  report: { line: number; column: number; message: string },
): string {
  return `${file}:${report.line}:${report.column}: runtime error: ${report.message}`;
}

/** The lines `pagewalk run` prints to stderr for a failed `expect` (`cli.md`). */
export function formatExpectFailure(file: string, failure: ExpectFailure): string[] {
  const message = failure.message !== null ? ` \u2014 ${failure.message}` : '';
  const lines = [`${file}:${failure.line}:${failure.column}: expectation failed: ${failure.text}${message}`];
  for (const { name, value } of failure.values) {
    lines.push(`  ${name} = ${typeof value === 'string' ? value : hex(value)}`);
  }
  for (const { proc, calledFrom } of failure.callChain)
    lines.push(`  in ${proc} called from ${file}:${calledFrom}`);
  return lines;
}

/** The failure line without its position, as the debugger's stop shows it (`events.md` §6.1). */
export function describeExpectFailure(failure: ExpectFailure): string {
  return `expectation failed: ${failure.text}${failure.message !== null ? ` \u2014 ${failure.message}` : ''}`;
}

/**
 * The values a failed `expect` lists: each variable as its frame holds it, each register as the
 * expression first read it (or, when evaluation never reached it, as it is now).
 */
export function reportedValues(
  info: ExpectInfo,
  vars: readonly (bigint | undefined)[],
  vcpu: VcpuHost,
): ReportedValue[] {
  return info.names.map((n, i) => {
    if ('register' in n) {
      return {
        name: n.name,
        value: registerReportValue(n.name, info.capture.values[i] ?? vcpu.register(n.name)),
      };
    }
    return { name: n.name, value: vars[n.slot] ?? 'not set' };
  });
}

/** The procs of a frame stack, innermost first, with the line each was called from. */
export function callChainOf(frames: readonly Frame[]): { proc: string; calledFrom: number }[] {
  const chain: { proc: string; calledFrom: number }[] = [];
  for (let i = frames.length - 1; i > 0; i--)
    chain.push({ proc: frames[i].body.name, calledFrom: frames[i].callLine });
  return chain;
}
