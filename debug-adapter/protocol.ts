/**
 * The public protocol of the Pagewalk debug adapter beyond DAP: the launch configuration, the
 * exception filter ids, and the custom `pagewalk/*` requests the extension's views send with
 * `customRequest`. This file is imported type-only by the extension, so it holds types and plain
 * constants and imports nothing at run time.
 *
 * Conventions: 64-bit quantities (addresses, entry values, register values, `rc`) travel as lowercase
 * `"0x…"` hex strings (`Hex`); frame numbers, indexes, counts and steps are JSON numbers. Paged
 * results carry `total` so a view can size its scroll range without fetching everything.
 */

/** A 64-bit value as lowercase hex, `"0x…"`. */
export type Hex = string;

export interface PagewalkLaunchArguments {
  /** Absolute path of the `.guest` file. */
  program: string;
  /** Stop before the first step. */
  stopOnEntry?: boolean;
  /** End the run after this many steps (like `pagewalk run --max-steps`). */
  maxSteps?: number;
  /** Send every logged event to the debug console as a `--trace` line. */
  trace?: boolean;
  /** Also accepted by DAP: run without debugging (breakpoints ignored). */
  noDebug?: boolean;
}

/** Exception filter ids (events.md §6.1), in the order the adapter advertises them. */
export const EXCEPTION_FILTER_IDS = [
  'page-fault',
  'gp-fault',
  'cr-write',
  'hypercall-error',
  'ptwr-emulate',
  'shadow-fixup',
  'shadow-emulate',
  'oos-resync',
  'unshadow',
  'npf',
  'mmio',
  'expect-failed',
  'invariant',
] as const;
export type ExceptionFilterId = (typeof EXCEPTION_FILTER_IDS)[number];

export type DomainKindName = 'pv' | 'hvm-shadow' | 'hvm-hap';
export type AddressSpace = 'machine' | 'guest_physical' | 'virtual';

// ---- pagewalk/domains ----

export type DomainsArguments = Record<string, never>;
export interface VcpuSummary {
  /** The DAP thread id of the vCPU's block, or null when no `vcpu` block runs it. */
  threadId: number | null;
  name: string;
  index: number;
  mode: 'kernel' | 'user';
  cr0: Hex;
  cr3: Hex;
  cr4: Hex;
  rc: Hex;
  fault: Hex;
  faultAddr: Hex;
  faultCode: Hex;
  halted: boolean;
}
export interface DomainSummary {
  name: string;
  id: number;
  kind: DomainKindName;
  memory: Hex;
  /** First machine frame of the domain's range and its number of frames. */
  firstMfn: number;
  frames: number;
  crashed: string | null;
  shadowCount: number;
  vcpus: VcpuSummary[];
}
export interface DomainsResult {
  step: number;
  domains: DomainSummary[];
}

// ---- pagewalk/frameTable (paged) ----

export interface FrameTableArguments {
  /** First mfn of the page. */
  start: number;
  /** Frames per page (at most 4096). */
  count: number;
  /** Only frames owned by this domain id. */
  owner?: number;
  /** Only frames whose type is not NONE or whose counts differ from the initial state. */
  interestingOnly?: boolean;
}
export interface FrameRow {
  mfn: number;
  owner: number;
  /** The pfn/gfn the owner sees, or null. */
  pfn: number | null;
  refCount: number;
  type: string;
  typeCount: number;
  validated: boolean;
  pinned: boolean;
  m2p: Hex;
}
export interface FrameTableResult {
  total: number;
  rows: FrameRow[];
}

// ---- pagewalk/pageTable (a subtree, lazily) ----

export interface PageTableArguments {
  threadId: number;
  /** Table frame in table space (gfn for HVM guest tables, mfn for PV/shadow); default: CR3's root. */
  frame?: number;
  /** Level of `frame` (4 = root). Default 4. */
  level?: number;
  /** Which tables: the guest's (default) or the shadow ones (shadow domains). */
  which?: 'guest' | 'shadow';
  /** Entries [start, start+count) of the table, default the whole 512. */
  start?: number;
  count?: number;
  /** First VA the table covers (for the rows' `vaStart`); default 0. Pass the parent row's `vaStart`. */
  vaBase?: Hex;
}
export interface PageTableEntryRow {
  /** First index of the row; a run of not-present entries is one row with `runLength` > 1. */
  index: number;
  runLength: number;
  value: Hex;
  present: boolean;
  /** `P RW US A D PS G NX` flags set in the entry. */
  flags: string[];
  /** The frame the entry points to (table space), or null when not present. */
  target: number | null;
  /** The VA range this entry covers, first address. */
  vaStart: Hex;
  /** True when the entry points to a lower-level table the client may expand. */
  expandable: boolean;
}
export interface PageTableResult {
  frame: number;
  mfn: number;
  level: number;
  entries: PageTableEntryRow[];
}

// ---- pagewalk/shadowPair ----

export interface ShadowPairArguments {
  threadId: number;
  /** Guest frame number of a guest page table. */
  gfn: number;
}
export interface ShadowPairResult {
  gfn: number;
  shadowed: boolean;
  writeProtected: boolean;
  outOfSync: boolean;
  /** Shadow pages of the guest table, when the domain's model exposes them. */
  shadows: { type: string; mfn: number }[];
  /** Why nothing more can be said (e.g. a HAP domain has no shadows). */
  note: string | null;
}

// ---- pagewalk/walk (one VA, every level) ----

export interface WalkArguments {
  threadId: number;
  va: Hex;
  access?: 'read' | 'write' | 'fetch';
  /** Default: the vCPU's current mode. */
  user?: boolean;
}
export interface WalkLevelRow {
  level: number;
  frame: number;
  mfn: number;
  index: number;
  entry: Hex;
  flags: string[];
}
export interface WalkResult {
  va: Hex;
  ok: boolean;
  levels: WalkLevelRow[];
  /** Guest-physical and machine address when the walk succeeds. */
  gpa: Hex | null;
  ma: Hex | null;
  pageSize: number | null;
  /** The fault the access would raise, in words, or null. */
  fault: string | null;
  /** The same walk as `walk VA` prints it in the console. */
  text: string;
  /** HAP domains: the two-dimensional walk (hvm-paging.md R9.1); null for PV and shadow. */
  hap: HapWalkGrid | null;
}
/** One guest reference of a HAP walk: a table entry read, or the final gpa (`ref` = `data`). */
export interface HapReference {
  ref: string;
  gpa: Hex;
  /** The machine address the p2m gives, or null when it has no entry (an EPT violation). */
  ma: Hex | null;
  /** The guest entry read there (table references only). */
  entry: Hex | null;
}
export interface HapWalkGrid {
  rows: HapReference[];
  /** Where the walk stopped: column 0 = the p2m translation, 1 = the guest entry. */
  failing: { row: number; col: 0 | 1 } | null;
}

// ---- pagewalk/events (paged log) ----

export interface EventsArguments {
  /** Index into the log of the first event. */
  start: number;
  count: number;
  /** Only these classes. */
  classes?: string[];
  /** Only events logged by this thread's vCPU. */
  threadId?: number;
}
export interface EventsResult {
  /** Length of the whole (filtered) log. */
  total: number;
  /** Events in `eventToJson` form (events.md §1), each with its `index` in the unfiltered log. */
  events: ({ index: number } & Record<string, unknown>)[];
}

// ---- pagewalk/diff (two steps) ----

export interface DiffArguments {
  /** Earlier step (0 = before the first step). */
  from: number;
  /** Later step; default the current one. */
  to?: number;
}
export interface DiffResult {
  from: number;
  to: number;
  /** Machine memory qwords that differ: `ma` of the qword, before and after. */
  memory: { ma: Hex; mfn: number; index: number; before: Hex; after: Hex }[];
  frames: { mfn: number; field: string; before: string; after: string }[];
  registers: { vcpu: string; register: string; before: Hex; after: Hex }[];
  /** True when the lists were cut at the adapter's limit. */
  truncated: boolean;
}

// ---- reverse requests ----

/** Common arguments of the `pagewalk/reverse*` requests. */
export interface ReverseArguments {
  threadId: number;
}
export interface ReverseToStepArguments extends ReverseArguments {
  /** A step at or before the current one (`step` of an event: travel to just after it ran). */
  step: number;
}
/** Reverse requests answer with an empty body and then send a `stopped` event (reason `step` or `breakpoint`). */
export type ReverseResult = Record<string, never>;

/** Every custom request: its command, arguments and result body. */
export interface PagewalkRequests {
  'pagewalk/domains': { args: DomainsArguments; result: DomainsResult };
  'pagewalk/frameTable': { args: FrameTableArguments; result: FrameTableResult };
  'pagewalk/pageTable': { args: PageTableArguments; result: PageTableResult };
  'pagewalk/shadowPair': { args: ShadowPairArguments; result: ShadowPairResult };
  'pagewalk/walk': { args: WalkArguments; result: WalkResult };
  'pagewalk/events': { args: EventsArguments; result: EventsResult };
  'pagewalk/diff': { args: DiffArguments; result: DiffResult };
  /** Back one step of the thread, entering calls backwards. */
  'pagewalk/reverseStepIn': { args: ReverseArguments; result: ReverseResult };
  /** Back to the call of the current proc frame. */
  'pagewalk/reverseStepOut': { args: ReverseArguments; result: ReverseResult };
  /** Back to the most recent step that logged a `fault`, `npf`, `fixup`, `emulate` or `hypercall_result`. */
  'pagewalk/reverseToTrap': { args: ReverseArguments; result: ReverseResult };
  /** Back to the most recent step that logged a `cr_write` with `reg` 3. */
  'pagewalk/reverseToCr3Write': { args: ReverseArguments; result: ReverseResult };
  /** Back to position `step` (the state right after that step ran; 0 = before the first), in one go. */
  'pagewalk/reverseToStep': { args: ReverseToStepArguments; result: ReverseResult };
}
export type PagewalkCommand = keyof PagewalkRequests;

/** Body of the custom `pagewalk/stateChanged` event sent after every stop, so views refresh. */
export interface StateChangedEventBody {
  step: number;
  eventCount: number;
  reason: string;
}

/** Error ids of the adapter's error responses (`body.error.id`). */
export const ADAPTER_ERROR_IDS = {
  badArguments: 1001,
  notLaunched: 1002,
  notStopped: 1003,
  unknownThread: 1004,
  unknownReference: 1005,
  evaluation: 1006,
  launchFailed: 1007,
  unsupported: 1008,
  memory: 1009,
  internal: 1100,
} as const;
