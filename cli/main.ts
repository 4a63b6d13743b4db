/**
 * The `pagewalk` command line (cli.md). Results go to stdout, diagnostics to stderr; a user error
 * never shows a stack trace. Misuse of the command line exits 2 with `pagewalk: error: MESSAGE`.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_MAX_STEPS, runProgram } from './runCommand';
import type { Io } from './runCommand';
import { runMappings } from './mappingsCommand';
import { runWalk } from './walkCommand';

declare const PAGEWALK_VERSION: string;

const VERSION = typeof PAGEWALK_VERSION === 'string' ? PAGEWALK_VERSION : '0.0.0-dev';

const HELP = `pagewalk ${VERSION} — debug guest page tables

Usage:
  pagewalk run FILE.guest [--json] [--max-steps N] [--trace]
  pagewalk mappings (--dump FILE | --image RAW --cr3 X) [--format tlb|mem|json] [--filter F]…
  pagewalk walk (--dump FILE | --image RAW --cr3 X) VA
  pagewalk --version
  pagewalk --help | pagewalk COMMAND --help

Commands:
  run       run every vCPU of a .guest program to its end and check its expectations
  mappings  list what a QEMU guest dump's page tables map, as "info tlb" (default) or "info mem"
            prints it, or as JSON
  walk      walk one virtual address through a QEMU guest dump's page tables
`;

const RUN_HELP = `Usage: pagewalk run FILE.guest [--json] [--max-steps N] [--trace]

Runs every vCPU of the program to its end (deterministic round-robin).
  --json         print one JSON object with the status, output, events, domains and frames
  --trace        print every event as it is logged, interleaved with print output
  --max-steps N  stop before step N+1 (default ${DEFAULT_MAX_STEPS})
Exit: 0 ok, 1 an expect failed, 2 rejected, 3 run-time error or step limit.
`;

class UsageError extends Error {}

export function main(argv: readonly string[], io: Io): number {
  try {
    return dispatch(argv, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`pagewalk: error: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

function dispatch(argv: readonly string[], io: Io): number {
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError('missing command (try pagewalk --help)');
  if (command === '--version' || command === '-V') {
    io.stdout(VERSION);
    return 0;
  }
  if (command === '--help' || command === '-h') {
    io.stdout(HELP.trimEnd());
    return 0;
  }
  if (command === 'run') return run(rest, io);
  if (command === 'mappings') return runMappings(rest, io);
  if (command === 'walk') return runWalk(rest, io);
  throw new UsageError(`unknown command '${command}' (try pagewalk --help)`);
}

function run(args: readonly string[], io: Io): number {
  let file: string | null = null;
  let json = false;
  let trace = false;
  let maxSteps = DEFAULT_MAX_STEPS;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help' || a === '-h') {
      io.stdout(RUN_HELP.trimEnd());
      return 0;
    } else if (a === '--json') json = true;
    else if (a === '--trace') trace = true;
    else if (a === '--max-steps' || a.startsWith('--max-steps=')) {
      const value = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
      if (value === undefined) throw new UsageError('--max-steps needs a number N');
      if (!/^\d+$/.test(value)) throw new UsageError(`--max-steps needs a whole number, got '${value}'`);
      maxSteps = Number(value);
    } else if (a.startsWith('-')) throw new UsageError(`unknown option '${a}' for run`);
    else if (file === null) file = a;
    else throw new UsageError(`run takes one FILE, got a second: '${a}'`);
  }
  if (file === null) throw new UsageError('run needs a FILE.guest');
  let source: string | null = null;
  let readError: string | null = null;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    readError = `cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`;
  }
  return runProgram(source, readError, { file, json, trace, maxSteps }, io);
}

/** The process entry point (bin/pagewalk.js). */
export function runCli(): void {
  const out: string[] = [];
  const code = main(process.argv.slice(2), {
    stdout: (line) => out.push(line),
    stderr: (line) => process.stderr.write(line + '\n'),
  });
  process.stdout.write(out.length > 0 ? out.join('\n') + '\n' : '', () => process.exit(code));
}
