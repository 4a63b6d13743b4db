/**
 * Watch, hover and debug-console evaluation (events.md §6.3: never changes anything) and the
 * console commands `walk VA`, `frame MFN`, `tlb`, `audit`, `events [N]`. Expressions are the guest
 * language's, evaluated by the interpreter in the chosen frame.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Engine } from '../engine/engine';
import { formatValue } from '../engine/language';
import { MAX_PHYS_BITS } from '../engine/machine/machine';
import { describeFlags } from '../engine/paging/pte';
import { walkTables } from '../engine/paging/walkTables';
import type { Walk } from '../engine/paging/walkTables';
import { AdapterError } from './adapterError';
import { CONSOLE_COMMANDS, runCommand } from './consoleCommands';
import { virtualReference } from './memory';
import type { Variables } from './variables';

export interface Evaluation {
  result: string;
  memoryReference?: string;
}

export class Evaluator {
  constructor(
    private readonly engine: Engine,
    private readonly variables: Variables,
  ) {}

  evaluate(expression: string, thread: number, frameIndex: number, context: string | undefined): Evaluation {
    const text = expression.trim();
    if (context === 'repl') {
      const [word, ...rest] = text.split(/\s+/);
      if (CONSOLE_COMMANDS.includes(word) && !/^\w+\s*\(/.test(text))
        return { result: runCommand(this.engine, this.variables, word, rest, thread) };
    }
    try {
      const value = this.engine.interpreter.evaluate(text, thread, frameIndex);
      return { result: formatValue(value), memoryReference: virtualReference(thread, value) };
    } catch (e) {
      throw new AdapterError('evaluation', e instanceof Error ? e.message : String(e));
    }
  }

  completions(text: string, column: number): DebugProtocol.CompletionItem[] {
    const prefix = /[A-Za-z_][A-Za-z0-9_]*$/.exec(text.slice(0, column - 1))?.[0] ?? '';
    const names = new Set<string>([
      ...CONSOLE_COMMANDS,
      'cr0',
      'cr3',
      'cr4',
      'rc',
      'done',
      'fault',
      'fault_addr',
      'fault_code',
    ]);
    for (const c of this.engine.program.consts.keys()) names.add(c);
    for (const t of this.engine.interpreter.threads())
      for (const f of this.engine.interpreter.frames(t.id)) for (const v of f.variables) names.add(v.name);
    for (const fn of [
      'read64',
      'read32',
      'read16',
      'read8',
      'translate',
      'guest_translate',
      'type_of',
      'type_count',
      'ref_count',
      'mfn',
      'pfn',
      'va',
      'pte_addr',
    ])
      names.add(fn);
    return [...names]
      .filter((n) => n.startsWith(prefix))
      .sort()
      .map((label) => ({ label, length: prefix.length, type: 'variable' as const }));
  }
}

/** The introspection walk of one VA for a thread's vCPU (no A/D, no TLB), every level. */
export function walkOf(
  engine: Engine,
  variables: Variables,
  thread: number,
  va: bigint,
  write = false,
): Walk | null {
  const { vcpu, domain } = variables.vcpuOf(thread);
  const cr0 = domain.model.readCr(vcpu, 0);
  if (domain.isHvm && !((cr0 >> 31n) & 1n)) return null;
  const cr3 = domain.model.readCr(vcpu, 3);
  return walkTables({
    memory: engine.machine.memory,
    root: Number(cr3 >> 12n),
    va48: Number(va & 0xffff_ffff_ffffn),
    access: write ? 'write' : 'read',
    user: vcpu.user,
    wp: ((cr0 >> 16n) & 1n) === 1n,
    nxe: true,
    allow1G: domain.kind !== 'hvm-shadow',
    maxPhysBits: MAX_PHYS_BITS,
    tableMfn: domain.isHvm ? (f) => domain.pfnToMfn(f) : undefined,
    setAD: false,
  });
}

export function walkText(engine: Engine, variables: Variables, thread: number, va: bigint): string {
  const walk = walkOf(engine, variables, thread, va);
  if (walk === null) return `paging is off: ${formatValue(va)} is a guest-physical address`;
  const lines = walk.levels.map((l) => {
    const value = (BigInt(l.hi >>> 0) << 32n) | BigInt(l.lo >>> 0);
    return `L${l.level} frame ${formatValue(BigInt(l.frame))} (mfn ${formatValue(BigInt(l.mfn))}) [${l.index}] = ${formatValue(value)} ${describeFlags(value)}`;
  });
  const { vcpu, domain } = variables.vcpuOf(thread);
  if (walk.ok)
    lines.push(
      `→ ${formatValue(va)} maps to machine address ${formatValue(domain.model.translate(vcpu, va))}`,
    );
  else
    lines.push(
      `→ fault: ${walk.cause} at L${walk.faultLevel} (error code ${formatValue(BigInt(walk.errorCode))})`,
    );
  return lines.join('\n');
}
