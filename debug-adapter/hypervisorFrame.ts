/**
 * The synthetic hypervisor frame: when a step was handled by the hypervisor (a hypercall stepped
 * into, or an event stop), the stack shows the Xen handler chain on top of the guest's frames, and
 * its "source" is a read-only text: the rule the handler applies (xen-semantics.md, in our words),
 * then what this call did — each event of the step with its explanation. The text is rebuilt from the
 * step's events on demand, so it needs no storage and is the same after a replay.
 */
import type { Engine } from '../engine/engine';
import type { EngineEvent } from '../engine/events/eventTypes';
import { formatTraceLine } from '../engine/events/eventJson';
import { formatValue } from '../engine/language';

interface HandlerRule {
  /** The Xen functions from the hypercall entry down to the one that owns the rule. */
  chain: string[];
  /** Where the contract states it. */
  ref: string;
  rule: string[];
}

const PIN: HandlerRule = {
  chain: ['do_mmuext_op', 'get_page_and_type_from_mfn'],
  ref: 'xen-semantics.md R6.1',
  rule: [
    'The frame must be a valid frame the caller owns (else -EINVAL); it takes a general reference.',
    'It then takes a type reference of the pinned level: a frame of another type still in use is',
    'refused (-EINVAL); a frame with type count 0 is validated now — every present entry is checked',
    'and takes its references — and a failed validation returns its error. A frame already pinned',
    'is refused (-EINVAL) and gives both references back. On success the pin holds one general and',
    'one type reference.',
  ],
};

const RULES: Record<string, HandlerRule> = {
  mmu_update: {
    chain: ['do_mmu_update'],
    ref: 'xen-semantics.md R5.1–R5.5',
    rule: [
      'Requests run in order and the first failing one ends the batch: rc is its error and done the',
      'number completed before it; earlier requests stay applied. The command is the low 3 bits of',
      'PTR. The frame written must be the caller’s: an in-use page table goes through',
      'mod_l1_entry .. mod_l4_entry (flag masks checked, the new entry’s references taken before the',
      'old entry’s are dropped, a fast path when only A/D/US/G/NX or available bits change); a frame',
      'with type count 0 is written as plain data (type WRITABLE). A successful L2–L4 update flushes',
      'the TLBs of the table owner’s vCPUs at the end of the hypercall.',
    ],
  },
  update_va_mapping: {
    chain: ['do_update_va_mapping', 'mod_l1_entry'],
    ref: 'xen-semantics.md R7',
    rule: [
      'The L1 entry mapping VA is found through the vCPU’s current kernel tables; it must be a',
      'validated L1 the caller owns (else -EINVAL). The update is mod_l1_entry’s; only when it',
      'succeeds is the flush the FLAGS ask for done — without one the TLB keeps a stale translation.',
    ],
  },
  pin_l1_table: PIN,
  pin_l2_table: PIN,
  pin_l3_table: PIN,
  pin_l4_table: PIN,
  unpin_table: {
    chain: ['do_mmuext_op', 'put_page_and_type'],
    ref: 'xen-semantics.md R6.2',
    rule: [
      'The frame must be the caller’s and pinned (else -EINVAL). The pin’s type and general',
      'references are dropped; at type count 0 the table is devalidated and its entries release',
      'their references, recursively.',
    ],
  },
  new_baseptr: {
    chain: ['do_mmuext_op', 'new_guest_cr3'],
    ref: 'xen-semantics.md R6.3',
    rule: [
      'The same base pointer again changes no count. Otherwise the frame takes a general and an L4',
      'type reference (validated now if its type count is 0; pinning is not required), the previous',
      'base pointer releases its references, cr3 reads the new frame, and this vCPU’s TLB is flushed.',
    ],
  },
  new_user_baseptr: {
    chain: ['do_mmuext_op'],
    ref: 'xen-semantics.md R6.4',
    rule: ['As new_baseptr for the user base pointer (0 clears it), but without a TLB flush.'],
  },
  tlb_flush_local: {
    chain: ['do_mmuext_op', 'flush_tlb_local'],
    ref: 'xen-semantics.md R6.5',
    rule: ['A full flush of this vCPU’s TLB, global entries included; rc is 0.'],
  },
  tlb_flush_all: {
    chain: ['do_mmuext_op', 'flush_tlb_mask'],
    ref: 'xen-semantics.md R6.5',
    rule: ['A full flush of every vCPU of the domain; rc is 0.'],
  },
  invlpg_local: {
    chain: ['do_mmuext_op', 'paging_invlpg'],
    ref: 'xen-semantics.md R6.5',
    rule: ['Drops this vCPU’s TLB entry for VA; a non-canonical VA does nothing; rc is 0.'],
  },
  invlpg_all: {
    chain: ['do_mmuext_op', 'flush_tlb_one_mask'],
    ref: 'xen-semantics.md R6.5',
    rule: ['Drops the entry for VA in every vCPU of the domain when VA is a guest address; rc is 0.'],
  },
};

/**
 * An HVM guest's hypercalls (guest-language.md § Statements): Xen's HVM hypercall table has no
 * `mmu_update` or `update_va_mapping`, and `do_mmuext_op` leaves the reference counts of a
 * translated domain to the paging code, so its pins are accepted and do nothing.
 */
const HVM_RULES: Record<string, HandlerRule> = {
  mmu_update: {
    chain: ['hvm_hypercall'],
    ref: 'guest-language.md § Statements',
    rule: [
      'An HVM guest has no mmu_update: the HVM hypercall table has no entry for it, so the call',
      'returns -ENOSYS (-EPERM from CPL 3, where hvm_hypercall refuses every hypercall).',
    ],
  },
  update_va_mapping: {
    chain: ['hvm_hypercall'],
    ref: 'guest-language.md § Statements',
    rule: [
      'An HVM guest has no update_va_mapping: the HVM hypercall table has no entry for it, so the',
      'call returns -ENOSYS (-EPERM from CPL 3).',
    ],
  },
  mmuext: {
    chain: ['hvm_hypercall', 'do_mmuext_op'],
    ref: 'guest-language.md § Statements',
    rule: [
      'For an HVM guest the paging code keeps the reference counts, so the pin and unpin operations',
      'are accepted and do nothing (rc 0); every other operation returns -EOPNOTSUPP; from CPL 3 the',
      'call is refused with -EPERM.',
    ],
  },
};

function ruleOf(events: readonly EngineEvent[], hvm: boolean): HandlerRule | undefined {
  const h = events.find((e) => e.class === 'hypercall' || e.class === 'hypercall_result');
  if (h === undefined || (h.class !== 'hypercall' && h.class !== 'hypercall_result')) return undefined;
  return hvm ? HVM_RULES[h.name] : RULES[h.op ?? h.name];
}

/** Whether the domain that made the step's hypercall is an HVM one. */
export function stepIsHvm(engine: Engine, events: readonly EngineEvent[]): boolean {
  const first = events[0];
  return first !== undefined && engine.machine.domain(first.domain)?.isHvm === true;
}

/** The chain of the last explanation of the step (`WHAT — CHAIN[: RESULT]`), as function names. */
function explainedChain(events: readonly EngineEvent[]): string[] {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i].explanation;
    if (e === undefined) continue;
    const tail = e.split(' \u2014 ').pop() ?? '';
    const chain = tail.replace(/:.*$/, '').split(' \u2192 ');
    if (chain.length > 0 && chain.every((f) => /^[a-z_][a-z0-9_]*$/.test(f.trim())))
      return chain.map((f) => f.trim());
  }
  return [];
}

/** The hypercall of the step: its name or mmuext op, when the step made one. */
function hypercallOf(events: readonly EngineEvent[]): string | null {
  const h = events.find((e) => e.class === 'hypercall' || e.class === 'hypercall_result');
  if (h === undefined || (h.class !== 'hypercall' && h.class !== 'hypercall_result')) return null;
  return h.op ?? h.name;
}

/** `do_mmu_update → mod_l1_entry → get_page_from_l1e`: the handler chain of a step's events. */
export function handlerChain(events: readonly EngineEvent[], hvm: boolean): string {
  const chain = [...(ruleOf(events, hvm)?.chain ?? [])];
  // mmu_update goes through the mod_lN_entry of the entry's level, whoever decided below it.
  if (!hvm && chain[0] === 'do_mmu_update') {
    const level = events
      .map((e) => (e.class === 'refusal' ? e.entry?.level : e.class === 'entry_update' ? e.level : null))
      .find((l) => typeof l === 'number' && l >= 1 && l <= 4);
    if (level !== undefined && level !== null) chain.push(`mod_l${level}_entry`);
  }
  const deeper = explainedChain(events);
  const functions = events
    .map((e) => (e as { xen_function?: string | null }).xen_function)
    .filter((f): f is string => typeof f === 'string');
  for (const f of deeper.length > 0 ? deeper : functions.slice(0, 1)) if (!chain.includes(f)) chain.push(f);
  return chain.length > 0 ? chain.join(' \u2192 ') : (events[0]?.class ?? 'hypervisor');
}

/** Whether a step went through the hypervisor as a hypercall (a step-in target). */
export function isHypercallStep(events: readonly EngineEvent[]): boolean {
  return hypercallOf(events) !== null;
}

/** The read-only text of the hypervisor frame for the step that logged `events`. */
export function hypervisorDocument(step: number, events: readonly EngineEvent[], hvm: boolean): string {
  const rule = ruleOf(events, hvm);
  const lines = [
    `; ${handlerChain(events, hvm)} — step ${step} (read-only: the hypervisor's side of the step)`,
    '',
  ];
  if (rule !== undefined) {
    lines.push(`; The rule (${rule.ref}):`, ...rule.rule.map((l) => `;   ${l}`), '');
  }
  const result = events.find((e) => e.class === 'hypercall_result');
  if (result?.class === 'hypercall_result')
    lines.push(
      `; Result: rc = ${formatValue(result.rc)}${result.done !== null ? `, done = ${result.done}` : ''}`,
      '',
    );
  const explained = events.filter((e) => e.explanation !== undefined);
  if (explained.length > 0) {
    lines.push('; Why:');
    for (const e of explained) {
      const id = (e as { rule?: string }).rule;
      lines.push(`;   ${e.class}${id ? ` (${id})` : ''}: ${e.explanation ?? ''}`);
    }
    lines.push('');
  }
  lines.push('; What this step did, in order (events.md §3):');
  for (const e of events) lines.push(formatTraceLine(e));
  return lines.join('\n') + '\n';
}
