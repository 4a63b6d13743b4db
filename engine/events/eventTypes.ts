/**
 * The one event schema of `events.md`: every event is a flat object `{step, domain, vcpu, line,
 * class, ...fields, explanation?}`. Integers that `events.md` §1 lists as JSON numbers are `number`
 * here; every other integer (addresses, entry values, register values, `rc`, bit sets, pfn values)
 * is `bigint` and becomes a `"0x…"` string in JSON (see `eventJson.ts`).
 *
 * The field order of each interface is the order of `events.md`'s tables, which is the key order of
 * the `--trace` line; `EVENT_FIELD_ORDER` states it once for the serialiser.
 */

export type FaultName = 'PF' | 'GP';
export type AccessKind = 'read' | 'write' | 'fetch';
export type FrameTypeName = 'NONE' | 'L1' | 'L2' | 'L3' | 'L4' | 'SEG_DESC' | 'WRITABLE';
export type ShadowTypeName = 'l4' | 'l3' | 'l2' | 'l1' | 'fl1';

export interface EventEnvelope {
  step: number;
  domain: string;
  vcpu: number;
  line: number;
  explanation?: string;
}

export interface FaultEntryRef {
  mfn: number;
  gfn: number | null;
  index: number;
  value: bigint;
}

export type FaultCause =
  | 'not_present'
  | 'protection'
  | 'reserved'
  | 'unbacked_table'
  | 'non_canonical'
  | 'privileged'
  | 'cr_check'
  | 'ptwr_refused'
  | 'mmio_fetch';

export interface FaultFields {
  class: 'fault';
  fault: FaultName;
  fault_addr: bigint;
  fault_code: bigint;
  access: AccessKind | null;
  va: bigint | null;
  cause: FaultCause;
  level: number | null;
  entry: FaultEntryRef | null;
  rule: string;
}

export type TlbFlushScope = 'all' | 'non_global' | 'none';

export interface CrWriteFields {
  class: 'cr_write';
  reg: 0 | 3 | 4;
  old: bigint;
  value: bigint;
  ok: boolean;
  intercepted: boolean;
  mode_change: boolean;
  shadow_made: number | null;
  tlb_flush: TlbFlushScope;
}

export type TlbFlushCause =
  | 'mov_cr3'
  | 'paging_mode'
  | 'invlpg'
  | 'new_baseptr'
  | 'mmuext'
  | 'update_va_mapping'
  | 'upper_update'
  | 'type_change'
  | 'mode_switch';

export interface TlbFlushFields {
  class: 'tlb_flush';
  vcpus: number[];
  scope: 'all' | 'non_global' | 'one';
  va: bigint | null;
  cause: TlbFlushCause;
  mfn: number | null;
}

export interface HypercallArgs {
  requests?: { cmd: number; ptr: bigint; val: bigint }[];
  arg?: bigint;
  va?: bigint;
  val?: bigint;
  flags?: bigint;
}

export interface HypercallFields {
  class: 'hypercall';
  name: 'mmu_update' | 'mmuext' | 'update_va_mapping';
  op: string | null;
  args: HypercallArgs;
  foreign: string | null;
}

export interface HypercallResultFields {
  class: 'hypercall_result';
  name: 'mmu_update' | 'mmuext' | 'update_va_mapping';
  op: string | null;
  rc: bigint;
  done: number | null;
  failed_index: number | null;
}

export interface EntryUpdateFields {
  class: 'entry_update';
  mfn: number;
  gfn: number | null;
  level: number | null;
  index: number;
  old: bigint;
  new: bigint;
  path: 'fast' | 'full' | 'plain_write';
  xen_function: string | null;
}

export interface ExpectFailedFields {
  class: 'expect_failed';
  text: string;
  message: string | null;
  values: { name: string; value: bigint | string }[];
}

export interface AuditViolation {
  rule: string;
  mfn: number | null;
  message: string;
}

export interface InvariantFields {
  class: 'invariant';
  audit: 'frames' | 'shadow';
  count: number;
  violations: AuditViolation[];
}

export interface DebuggerWriteFields {
  class: 'debugger_write';
  space: 'machine' | 'guest_physical' | 'virtual';
  address: bigint;
  size: number;
  ma: bigint;
}

// ---- PV classes (events.md §4, xen-semantics.md R14.1) ----

export type RefHolder =
  { mfn: number; level: number; index: number } | 'pin' | 'baseptr' | 'user_baseptr' | 'attempt' | 'pending';

export interface RefFields {
  class: 'ref_taken' | 'ref_dropped';
  mfn: number;
  kind: 'general' | 'type';
  type: FrameTypeName;
  count_after: number;
  holder: RefHolder;
}

export interface TypeChangeFields {
  class: 'type_change';
  mfn: number;
  from: FrameTypeName;
  to: FrameTypeName;
}

export interface ValidateFields {
  class: 'validate';
  mfn: number;
  type: FrameTypeName;
  ok: boolean;
  failed_index: number | null;
  rc: bigint;
  xen_function: string;
}

export interface DevalidateFields {
  class: 'devalidate';
  mfn: number;
  type: FrameTypeName;
  released: number;
}

export interface PinFields {
  class: 'pin' | 'unpin';
  mfn: number;
  type: FrameTypeName;
}

export interface BaseptrFields {
  class: 'baseptr';
  which: 'kernel' | 'user';
  old: number;
  new: number;
  via: 'mmuext' | 'mov_cr3';
}

export interface PtwrFields {
  class: 'ptwr';
  va: bigint;
  l1_mfn: number;
  index: number;
  size: number;
  old: bigint;
  new: bigint;
  ok: boolean;
  rc: bigint;
}

export interface PartialValidationFields {
  class: 'partial_validation';
  mfn: number;
  type: FrameTypeName;
  index: number;
  state: 'pending' | 'finished' | 'lost';
}

export interface FrameFacts {
  mfn: number;
  type: FrameTypeName;
  type_count: number;
  ref_count: number;
  pinned: boolean;
  validated: boolean;
  owner: number;
}

export interface RefusalFields {
  class: 'refusal';
  rule: string;
  xen_function: string;
  rc: bigint;
  frame: FrameFacts | null;
  entry: { mfn: number; level: number; index: number; value: bigint } | null;
  target: FrameFacts | null;
}

// ---- HVM classes (events.md §4, hvm-paging.md §10) ----

export interface FixupFields {
  class: 'fixup';
  va: bigint;
  access: AccessKind;
  cpl: 0 | 3;
  gfn: number;
  made: { type: ShadowTypeName; gfn: number }[];
  ad_set: { level: number; gfn: number; index: number; bits: bigint }[];
  flags: ('promote' | 'wrmap' | 'unsync' | 'oos_evict')[];
  sl1_index: number;
}

export interface PropagateFields {
  class: 'propagate';
  va: bigint;
  access: AccessKind;
  cpl: 0 | 3;
  error_code: bigint;
  level: number | null;
  reason: 'not_present' | 'protection' | 'reserved' | 'unbacked_table';
}

export interface EmulateFields {
  class: 'emulate';
  va: bigint;
  gfn: number;
  offset: number;
  size: number;
  value: bigint;
  reason: 'pt_write' | 'wp';
  validated: { type: ShadowTypeName; index: number; entry: bigint }[];
  tlb_flush: boolean;
}

export interface ResyncFields {
  class: 'resync';
  gfn: number;
  trigger: 'cr3' | 'mode' | 'walk' | 'promote' | 'l2_install' | 'new_upper' | 'evict';
  entries: number[];
}

export interface UnshadowFields {
  class: 'unshadow';
  gfn: number;
  reason: 'user_mode' | 'early' | 'misaligned' | 'cross_page' | 'bad_entry';
  removed: { type: ShadowTypeName; gfn: number }[];
}

export interface InvlpgFields {
  class: 'invlpg';
  va: bigint;
  oos_entry_cleared: boolean;
  full_flush: boolean;
}

export interface MmioFields {
  class: 'mmio';
  va: bigint;
  gpa: bigint;
  size: number;
  dir: AccessKind;
  value: bigint | null;
  fast: boolean;
}

export interface NpfFields {
  class: 'npf';
  gla: bigint | null;
  gpa: bigint;
  kind: 'table' | 'final';
  access: AccessKind;
}

export type EventFields =
  | FaultFields
  | CrWriteFields
  | TlbFlushFields
  | HypercallFields
  | HypercallResultFields
  | EntryUpdateFields
  | ExpectFailedFields
  | InvariantFields
  | DebuggerWriteFields
  | RefFields
  | TypeChangeFields
  | ValidateFields
  | DevalidateFields
  | PinFields
  | BaseptrFields
  | PtwrFields
  | PartialValidationFields
  | RefusalFields
  | FixupFields
  | PropagateFields
  | EmulateFields
  | ResyncFields
  | UnshadowFields
  | InvlpgFields
  | MmioFields
  | NpfFields;

export type EventClass = EventFields['class'];

/** A logged event: the envelope and the fields of its class. */
export type EngineEvent = EventEnvelope & EventFields;

/** Fields without the envelope, as a producer hands them to the log (explanation optional). */
export type EventInput = EventFields & { explanation?: string };

/** Key order of each class's fields (the `--trace` line, events.md §2). */
export const EVENT_FIELD_ORDER: { readonly [C in EventClass]: readonly string[] } = {
  fault: ['fault', 'fault_addr', 'fault_code', 'access', 'va', 'cause', 'level', 'entry', 'rule'],
  cr_write: ['reg', 'old', 'value', 'ok', 'intercepted', 'mode_change', 'shadow_made', 'tlb_flush'],
  tlb_flush: ['vcpus', 'scope', 'va', 'cause', 'mfn'],
  hypercall: ['name', 'op', 'args', 'foreign'],
  hypercall_result: ['name', 'op', 'rc', 'done', 'failed_index'],
  entry_update: ['mfn', 'gfn', 'level', 'index', 'old', 'new', 'path', 'xen_function'],
  expect_failed: ['text', 'message', 'values'],
  invariant: ['audit', 'count', 'violations'],
  debugger_write: ['space', 'address', 'size', 'ma'],
  ref_taken: ['mfn', 'kind', 'type', 'count_after', 'holder'],
  ref_dropped: ['mfn', 'kind', 'type', 'count_after', 'holder'],
  type_change: ['mfn', 'from', 'to'],
  validate: ['mfn', 'type', 'ok', 'failed_index', 'rc', 'xen_function'],
  devalidate: ['mfn', 'type', 'released'],
  pin: ['mfn', 'type'],
  unpin: ['mfn', 'type'],
  baseptr: ['which', 'old', 'new', 'via'],
  ptwr: ['va', 'l1_mfn', 'index', 'size', 'old', 'new', 'ok', 'rc'],
  partial_validation: ['mfn', 'type', 'index', 'state'],
  refusal: ['rule', 'xen_function', 'rc', 'frame', 'entry', 'target'],
  fixup: ['va', 'access', 'cpl', 'gfn', 'made', 'ad_set', 'flags', 'sl1_index'],
  propagate: ['va', 'access', 'cpl', 'error_code', 'level', 'reason'],
  emulate: ['va', 'gfn', 'offset', 'size', 'value', 'reason', 'validated', 'tlb_flush'],
  resync: ['gfn', 'trigger', 'entries'],
  unshadow: ['gfn', 'reason', 'removed'],
  invlpg: ['va', 'oos_entry_cleared', 'full_flush'],
  mmio: ['va', 'gpa', 'size', 'dir', 'value', 'fast'],
  npf: ['gla', 'gpa', 'kind', 'access'],
};

/** Classes that carry an explanation (events.md §5). */
export const EXPLAINED_CLASSES: ReadonlySet<EventClass> = new Set<EventClass>([
  'fault',
  'cr_write',
  'refusal',
  'ptwr',
  'partial_validation',
  'fixup',
  'propagate',
  'emulate',
  'resync',
  'unshadow',
  'invlpg',
  'mmio',
  'npf',
]);
