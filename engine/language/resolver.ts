/**
 * The resolver checks the load-time rules of `guest-language.md` (§ Top-level declarations,
 * § Names, frames and procs, § Errors) and annotates the tree for the compiler: every name in an
 * expression gets a `NameRef`, every call a `FunctionRef`, every declaring statement a slot.
 *
 * Declarations are taken in three passes: domains, procs and the machine first (procs may be called
 * before their declaration, `vcpu` blocks may name any domain), then consts in source order (each
 * sees only earlier ones, and is evaluated at once), then the bodies. Inside a body, a variable is
 * known from its `let` (or `for`) line onward in source order: `FrameScope` walks the statements in
 * that order. Errors are collected, never thrown.
 */
import type { Decl, DeclOf, Expr } from './ast';
import { BUILTIN_CONSTANTS, isRegister } from './builtins';
import { makeDiagnostic } from './diagnostic';
import type { Diagnostic } from './diagnostic';
import { ExpressionCompiler } from './expressionCompiler';
import type { ExecContext } from './expressionCompiler';
import { GuestRuntimeError } from './host';
import { FrameScope, resolveCall, reservedMessage } from './frameScope';
import type { Declarations, FrameLayout } from './frameScope';

const FRAME = 4096n;
const MIB = 1n << 20n;

export interface DomainInfo {
  readonly name: string;
  /** 1, 2, … in declaration order. */
  readonly id: number;
  readonly kind: 'pv' | 'hvm';
  /** Bytes, as declared. */
  readonly memory: bigint;
  readonly vcpus: number;
  readonly privileged: boolean;
  /** HVM: `shadow` (the default) or `hap`; PV: null. */
  readonly paging: 'shadow' | 'hap' | null;
  readonly line: number;
}

export interface ResolvedBody<D extends Decl = DeclOf<'proc'> | DeclOf<'vcpu'>> {
  readonly decl: D;
  readonly layout: FrameLayout;
}

export interface Resolution {
  readonly diagnostics: Diagnostic[];
  readonly machineMemory: bigint | null;
  /** The machine pool in bytes: as declared, or the default rule's size. */
  readonly poolMemory: bigint;
  readonly domains: DomainInfo[];
  readonly consts: Map<string, { readonly value: bigint | null; readonly line: number }>;
  readonly procs: Map<string, ResolvedBody<DeclOf<'proc'>>>;
  readonly vcpus: (ResolvedBody<DeclOf<'vcpu'>> & { readonly domain: string; readonly index: number })[];
}

export function resolve(declarations: readonly Decl[]): Resolution {
  const diagnostics: Diagnostic[] = [];
  const error = (at: { line: number; column: number }, message: string) =>
    diagnostics.push(makeDiagnostic(at.line, at.column, message));

  // Pass 1: the machine, domains and procs.
  const domains: DomainInfo[] = [];
  const domainLines = new Map<string, number>();
  const brokenDomains = new Set<string>();
  const procDecls = new Map<string, DeclOf<'proc'>>();
  let machine: DeclOf<'machine'> | null = null;
  for (const decl of declarations) {
    if (decl.kind === 'machine') {
      if (machine) error(decl, `the machine is already declared on line ${machine.line}`);
      else machine = decl;
    } else if (decl.kind === 'domain') {
      const name = decl.name.name;
      const reserved = reservedMessage(name, 'a domain');
      if (decl.broken) {
        brokenDomains.add(name);
        domainLines.set(name, decl.line);
      } else if (reserved) {
        error(decl.name, reserved);
        domainLines.set(name, decl.line); // so that its vcpu blocks are not reported as naming an unknown domain
      } else if (domainLines.has(name))
        error(decl.name, `domain '${name}' is already declared on line ${domainLines.get(name)}`);
      else {
        domainLines.set(name, decl.line);
        const memory = decl.memory.bytes ?? 0n;
        domains.push({
          name,
          id: domains.length + 1,
          kind: decl.domainKind,
          memory,
          vcpus: decl.vcpus,
          privileged: decl.privileged,
          paging: decl.paging,
          line: decl.line,
        });
      }
    } else if (decl.kind === 'proc' && decl.name) {
      const name = decl.name.name;
      const reserved = reservedMessage(name, 'a proc');
      const previous = procDecls.get(name);
      if (reserved) error(decl.name, reserved);
      else if (previous) error(decl.name, `proc '${name}' is already declared on line ${previous.line}`);
      else procDecls.set(name, decl);
    }
  }

  const totalMemory = domains.reduce((sum, d) => sum + d.memory, 0n);
  const machineMemory = machine?.memory.bytes ?? null;
  if (machine && machineMemory !== null && totalMemory > machineMemory) {
    error(
      machine,
      `the domains need ${totalMemory / FRAME} frames but machine memory has ${machineMemory / FRAME}`,
    );
  }
  const defaultPool = totalMemory + 64n * MIB > 256n * MIB ? totalMemory + 64n * MIB : 256n * MIB;
  const poolMemory = machineMemory ?? ((defaultPool + 2n * MIB - 1n) / (2n * MIB)) * (2n * MIB);

  const scope: Declarations = {
    // Broken declarations stay known (id 0, unknown arity) so that their uses are not reported again.
    domains: new Map<string, { id: number }>([
      ...[...brokenDomains].map((name): [string, { id: number }] => [name, { id: 0 }]),
      ...domains.map((d): [string, { id: number }] => [d.name, d]),
    ]),
    procs: new Map(
      [...procDecls].map(([name, decl]) => [name, { params: decl.headerOk ? decl.params.length : null }]),
    ),
    consts: new Map(),
  };

  // Pass 2: consts, in source order, evaluated as they come.
  for (const decl of declarations) {
    if (decl.kind !== 'const') continue;
    const name = decl.name.name;
    const reserved = reservedMessage(name, 'a const');
    const previous = scope.consts.get(name);
    if (reserved) error(decl.name, reserved);
    else if (previous) error(decl.name, `const '${name}' is already declared on line ${previous.line}`);
    if (reserved || previous) continue;
    let value: bigint | null = null;
    if (decl.value) {
      const before = diagnostics.length;
      checkConstExpr(decl.value, scope, declarations, decl.line, error);
      if (diagnostics.length === before) value = evaluateConst(decl.value, name, error);
    }
    scope.consts.set(name, { value, line: decl.line });
  }

  // Pass 3: bodies.
  const procs = new Map<string, ResolvedBody<DeclOf<'proc'>>>();
  const vcpus: Resolution['vcpus'] = [];
  const blocks = new Map<string, number>();
  for (const decl of declarations) {
    if (decl.kind === 'proc') {
      if (!decl.headerOk) continue;
      const frame = new FrameScope(scope, error, decl.name?.name ?? '', decl.params, true);
      frame.body(decl.body);
      const name = decl.name?.name;
      if (name !== undefined && procDecls.get(name) === decl)
        procs.set(name, { decl, layout: frame.layout() });
    } else if (decl.kind === 'vcpu') {
      const label = decl.domain ? `vcpu ${decl.domain.name}.${decl.index}` : 'vcpu';
      const frame = new FrameScope(scope, error, label, [], false);
      frame.body(decl.body);
      if (!decl.domain) continue;
      const domain = domains.find((d) => d.name === decl.domain?.name);
      const key = `${decl.domain.name}.${decl.index}`;
      if (!domain) {
        if (!domainLines.has(decl.domain.name)) error(decl.domain, `unknown domain '${decl.domain.name}'`);
      } else if (decl.index >= domain.vcpus) {
        const has = domain.vcpus === 1 ? '1 vCPU' : `${domain.vcpus} vCPUs`;
        error(decl.domain, `domain '${domain.name}' has ${has}, so vCPU ${decl.index} does not exist`);
      } else if (blocks.has(key)) {
        error(decl.domain, `vCPU ${key} already has a block on line ${blocks.get(key)}`);
      } else {
        blocks.set(key, decl.line);
        vcpus.push({ decl, layout: frame.layout(), domain: domain.name, index: decl.index });
      }
    }
  }

  return { diagnostics, machineMemory, poolMemory, domains, consts: scope.consts, procs, vcpus };
}

/** Annotates a const's expression, allowing only numbers, operators, built-in constants, earlier consts and the pure functions. */
function checkConstExpr(
  e: Expr,
  scope: Declarations,
  declarations: readonly Decl[],
  line: number,
  error: (at: { line: number; column: number }, message: string) => void,
): void {
  switch (e.kind) {
    case 'number':
      return;
    case 'group':
      return checkConstExpr(e.inner, scope, declarations, line, error);
    case 'unary':
      return checkConstExpr(e.operand, scope, declarations, line, error);
    case 'binary':
      checkConstExpr(e.left, scope, declarations, line, error);
      return checkConstExpr(e.right, scope, declarations, line, error);
    case 'name': {
      const builtin = BUILTIN_CONSTANTS.get(e.name);
      const known = scope.consts.get(e.name);
      if (builtin !== undefined) e.ref = { kind: 'value', value: builtin, constant: 'builtin' };
      else if (known) e.ref = { kind: 'value', value: known.value ?? 0n, constant: 'const' };
      else if (isRegister(e.name)) error(e, `a const cannot read the register '${e.name}'`);
      else {
        const later = declarations.find(
          (d) => d.kind === 'const' && d.name.name === e.name && d.line >= line,
        );
        error(
          e,
          later
            ? `const '${e.name}' is used before its declaration on line ${later.line}`
            : `unknown name '${e.name}' in a const expression`,
        );
      }
      return;
    }
    case 'call':
      if (e.name !== 'domid') for (const arg of e.args) checkConstExpr(arg, scope, declarations, line, error);
      resolveCall(e, scope, error, true);
      return;
  }
}

function evaluateConst(
  e: Expr,
  name: string,
  error: (at: { line: number; column: number }, message: string) => void,
): bigint | null {
  try {
    const run = new ExpressionCompiler().compile(e);
    return run({ vars: [], effects: false, bindings: null } as unknown as ExecContext);
  } catch (err) {
    if (!(err instanceof GuestRuntimeError)) throw err;
    error(e, `const '${name}': ${err.message}`);
    return null;
  }
}
