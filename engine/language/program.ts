/**
 * A loaded `.guest` file: `parseProgram` runs scanner, parser, resolver (with const evaluation)
 * and compiler, and hands out either a `Program` or the sorted diagnostics that reject the file.
 */
import { BodyCompiler, Op, createBody } from './compiler';
import type { CompiledBody } from './compiler';
import { parseSource } from './declarationParser';
import { sortDiagnostics } from './diagnostic';
import type { Diagnostic } from './diagnostic';
import { resolve } from './resolver';
import type { DomainInfo } from './resolver';

export type { DomainInfo } from './resolver';

export interface VcpuBlock {
  readonly domain: string;
  readonly index: number;
  /** The line of the `vcpu` keyword. */
  readonly line: number;
}

export interface ProcInfo {
  readonly name: string;
  readonly params: readonly string[];
  readonly line: number;
}

export interface Program {
  readonly file: string;
  readonly source: string;
  /** Bytes, as declared by `machine memory=…`, or null without a `machine` line. */
  readonly machineMemory: bigint | null;
  /** The machine pool in bytes: `machineMemory`, or the default (the larger of 256M and the domains' sum + 64M, rounded up to 2M). */
  readonly poolMemory: bigint;
  readonly domains: readonly DomainInfo[];
  /** The `vcpu` blocks in declaration order: the debugger's threads, the round-robin order. */
  readonly vcpus: readonly VcpuBlock[];
  readonly procs: readonly ProcInfo[];
  readonly consts: ReadonlyMap<string, bigint>;
  /** Lines that are steps (`guest-language.md` § Steps), ascending: where a breakpoint can stand. */
  readonly stepLines: readonly number[];
  /** The compiled bodies, for the interpreter. */
  readonly compiled: {
    readonly vcpus: readonly CompiledBody[];
    readonly procs: ReadonlyMap<string, CompiledBody>;
  };
}

export interface ParseProgramResult {
  readonly program: Program | null;
  readonly diagnostics: Diagnostic[];
}

export function parseProgram(source: string, file: string): ParseProgramResult {
  const parsed = parseSource(source);
  const resolution = resolve(parsed.file.declarations);
  const diagnostics = sortDiagnostics([...parsed.diagnostics, ...resolution.diagnostics]);
  if (diagnostics.length > 0) return { program: null, diagnostics };

  const procs = new Map<string, CompiledBody>();
  for (const [name, r] of resolution.procs) procs.set(name, createBody(name, 'proc', r.decl.line, r.layout));
  const vcpus = resolution.vcpus.map((v) =>
    createBody(`vcpu ${v.domain}.${v.index}`, 'vcpu', v.decl.line, v.layout),
  );
  for (const [name, r] of resolution.procs)
    new BodyCompiler(procs.get(name) as CompiledBody, procs).compile(r.decl.body);
  resolution.vcpus.forEach((v, i) => new BodyCompiler(vcpus[i], procs).compile(v.decl.body));

  const stepLines = new Set<number>();
  for (const body of [...vcpus, ...procs.values()]) {
    for (const instr of body.code) if (instr.op !== Op.JUMP) stepLines.add(instr.line);
  }
  const consts = new Map<string, bigint>();
  for (const [name, c] of resolution.consts) consts.set(name, c.value ?? 0n);

  const program: Program = {
    file,
    source,
    machineMemory: resolution.machineMemory,
    poolMemory: resolution.poolMemory,
    domains: resolution.domains,
    vcpus: resolution.vcpus.map((v) => ({ domain: v.domain, index: v.index, line: v.decl.line })),
    procs: [...resolution.procs].map(([name, r]) => ({
      name,
      params: r.decl.params.map((p) => p.name),
      line: r.decl.line,
    })),
    consts,
    stepLines: [...stepLines].sort((a, b) => a - b),
    compiled: { vcpus, procs },
  };
  return { program, diagnostics: [] };
}

/** The first step line at or after `line`, where a breakpoint set on `line` takes effect, or null. */
export function breakpointLine(program: Program, line: number): number | null {
  return program.stepLines.find((l) => l >= line) ?? null;
}
