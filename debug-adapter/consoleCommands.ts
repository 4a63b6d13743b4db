/**
 * Debug-console commands (the words the console takes before falling back to an expression):
 * `walk VA`, `frame MFN`, `tlb`, `audit`, `events [N]`, `mappings`, `who-maps MFN`,
 * `history VA|MFN`. Each reads the machine and returns text; none changes anything except `audit`,
 * which logs `invariant` events as events.md §3 says.
 */
import type { Engine } from '../engine/engine';
import { formatTraceLine } from '../engine/events/eventJson';
import { formatValue } from '../engine/language';
import type { TlbEntry } from '../engine/paging/tlb';
import { tlbEntryVa, tlbStaleness } from './tlbStaleness';
import type { Domain } from '../engine/machine/domain';
import type { Vcpu } from '../engine/machine/vcpu';
import { describeFlags } from '../engine/paging/pte';
import { AdapterError, parseBig } from './adapterError';
import { auditAndLog, auditText } from './audits';
import { walkText } from './evaluate';
import { canonical } from './variables';
import type { Variables } from './variables';

export const CONSOLE_COMMANDS = [
  'walk',
  'frame',
  'tlb',
  'audit',
  'events',
  'mappings',
  'who-maps',
  'history',
  'help',
];
const MAX_LINES = 200;

interface Leaf {
  va: bigint;
  size: bigint;
  /** Target frame in the domain's physical space (gfn for HVM, mfn for PV). */
  frame: bigint;
  mfn: number;
  value: bigint;
}

function number(text: string | undefined, usage: string): bigint {
  const v = parseBig(text);
  if (v === null) throw new AdapterError('evaluation', `usage: ${usage}`);
  return v;
}

export function runCommand(
  engine: Engine,
  variables: Variables,
  word: string,
  args: string[],
  thread: number,
): string {
  switch (word) {
    case 'walk':
      return walkText(engine, variables, thread, number(args[0], 'walk VA'));
    case 'frame':
      return frameText(engine, Number(number(args[0], 'frame MFN')));
    case 'tlb': {
      const { vcpu, domain } = variables.vcpuOf(thread);
      const entries = vcpu.tlb.all();
      if (entries.length === 0) return `${vcpu.label}: TLB empty`;
      const stale = (e: TlbEntry) => {
        const why = tlbStaleness(domain, vcpu, e);
        return why === null ? '' : ` STALE (${why})`;
      };
      return entries
        .map((e) => `${formatValue(tlbEntryVa(e))} → mfn ${formatValue(BigInt(e.mfn))} ${e.rw ? 'RW' : 'RO'} ${e.us ? 'US' : 'S'}${e.nx ? ' NX' : ''}${e.global ? ' G' : ''}${stale(e)}`)
        .join('\n'); // prettier-ignore
    }
    case 'audit':
      return [auditText(engine), ...auditAndLog(engine).map(() => '(logged an invariant event)')].join('\n');
    case 'events': {
      const n = args[0] === undefined ? 20 : Number(number(args[0], 'events N'));
      const all = engine.events;
      return (
        all
          .slice(Math.max(0, all.length - n))
          .map(formatTraceLine)
          .join('\n') || 'no events yet'
      );
    }
    case 'mappings': {
      const { vcpu, domain } = variables.vcpuOf(thread);
      const leaves = leavesOf(engine, vcpu, domain);
      if (leaves === null) return `${vcpu.label}: paging is off`;
      if (leaves.length === 0) return `${vcpu.label}: nothing is mapped`;
      return cap(leaves.map((l) => `${formatValue(l.va)}..${formatValue(l.va + l.size - 1n)} → ${domain.isHvm ? 'gfn' : 'mfn'} ${formatValue(l.frame)} ${describeFlags(l.value)}`)); // prettier-ignore
    }
    case 'who-maps': {
      const mfn = Number(number(args[0], 'who-maps MFN'));
      const lines: string[] = [];
      for (const d of engine.machine.domains)
        for (const v of d.vcpus)
          for (const l of leavesOf(engine, v, d) ?? [])
            if (mfn >= l.mfn && mfn < l.mfn + Number(l.size >> 12n))
              lines.push(
                `${v.label}: ${formatValue(l.va + (BigInt(mfn - l.mfn) << 12n))} ${describeFlags(l.value)}`,
              );
      return lines.length === 0 ? `no vCPU's tables map mfn ${formatValue(BigInt(mfn))}` : cap(lines);
    }
    case 'history': {
      const n = number(args[0], 'history VA|MFN');
      const hits = engine.events.filter((e) => mentions(e, n));
      return hits.length === 0 ? `no event mentions ${formatValue(n)}` : cap(hits.map(formatTraceLine));
    }
    default:
      return 'commands: walk VA, frame MFN, tlb, audit, events [N], mappings, who-maps MFN, history VA|MFN; anything else is a guest-language expression';
  }
}

function cap(lines: string[]): string {
  return lines.length <= MAX_LINES
    ? lines.join('\n')
    : [...lines.slice(0, MAX_LINES), `… ${lines.length - MAX_LINES} more`].join('\n');
}

function frameText(engine: Engine, mfn: number): string {
  const ft = engine.machine.frameTable;
  if (!ft.isValid(mfn)) throw new AdapterError('evaluation', `no machine frame ${formatValue(BigInt(mfn))}`);
  return `mfn ${formatValue(BigInt(mfn))}: owner ${ft.owner(mfn)} type ${ft.typeName(mfn)} type_count ${ft.typeCount(mfn)} ref_count ${ft.refCount(mfn)}${ft.validated(mfn) ? ' validated' : ''}${ft.pinned(mfn) ? ' pinned' : ''} m2p ${formatValue(ft.m2p(mfn))}`;
}

/** An event mentions N when a field equals it, or a VA-like field lies in page N's 4K page. */
function mentions(event: object, n: bigint): boolean {
  for (const [key, v] of Object.entries(event)) {
    if (key === 'step' || key === 'line' || key === 'vcpu') continue;
    if (typeof v === 'bigint' && (v === n || (v >> 12n === n >> 12n && n >= 0x1000n))) return true;
    if (typeof v === 'number' && BigInt(v) === n) return true;
    if (v !== null && typeof v === 'object' && mentions(v, n)) return true;
  }
  return false;
}

/** Every leaf mapping of a vCPU's tables, in VA order; null when paging is off. */
function leavesOf(engine: Engine, vcpu: Vcpu, domain: Domain): Leaf[] | null {
  const cr0 = domain.model.readCr(vcpu, 0);
  if (domain.isHvm && !((cr0 >> 31n) & 1n)) return null;
  const cr3 = domain.model.readCr(vcpu, 3);
  if (!domain.isHvm && cr3 === 0n) return null;
  const toMfn = (frame: bigint) => (domain.isHvm ? domain.pfnToMfnBig(frame) : Number(frame));
  const out: Leaf[] = [];
  const visit = (frame: bigint, level: number, base: bigint) => {
    const mfn = toMfn(frame);
    if (mfn < 0 || out.length > 100_000) return;
    for (let i = 0; i < 512; i++) {
      const value = engine.machine.memory.readEntry(mfn, i);
      if ((value & 1n) === 0n) continue;
      const size = 1n << BigInt(12 + 9 * (level - 1));
      const va = canonical(base + BigInt(i) * size);
      const target = (value >> 12n) & 0xf_ffff_ffffn;
      if (level === 1 || (level < 4 && value & 0x80n)) {
        const first = level === 1 ? target : target & ~((size >> 12n) - 1n);
        out.push({ va, size, frame: first, mfn: toMfn(first), value });
      } else visit(target, level - 1, va & 0xffff_ffff_ffffn);
    }
  };
  visit(cr3 >> 12n, 4, 0n);
  return out;
}
