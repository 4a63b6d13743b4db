/**
 * The messages between the extension host and Pagewalk's webviews. This module imports neither
 * side: the extension and the browser bundles both compile against it.
 *
 * Numbers that fit below 2^53 (frame numbers, indexes, steps, domain ids) cross as numbers, as in the
 * event schema (`events.md` §1); 64-bit addresses and entries cross as lowercase `"0x…"` strings and
 * become `bigint` only where the webview does arithmetic on them. Bulk frame data crosses as typed
 * arrays, which `postMessage` clones without a JSON round trip.
 *
 * Every webview posts `ready` once it listens; the extension answers with its current state. A
 * request that expects an answer carries a `requestId` the answer echoes, so a late answer to a
 * superseded request (the user scrolled on) can be dropped.
 */

export type Hex = `0x${string}`;

/** Xen's page types (`xen-semantics.md` R1.1), by name as the event schema writes them. */
export type FrameTypeName = 'NONE' | 'L1' | 'L2' | 'L3' | 'L4' | 'SEG_DESC' | 'WRITABLE';
/** Shadow page types (`hvm-paging.md` §3). */
export type ShadowType = 'l4' | 'l3' | 'l2' | 'l1' | 'fl1';
export type TableLevel = 1 | 2 | 3 | 4;
export type PagingKind = 'pv' | 'shadow' | 'hap';

// ---------------------------------------------------------------- page-table explorer

/** A table frame: `mfn` always, `gfn` for HVM guest tables (null for PV). */
export interface TableRef {
  mfn: number;
  gfn: number | null;
}

/** One slot of a table. Only non-zero slots are sent; a missing index reads as 0. */
export interface TableEntry {
  index: number;
  value: Hex;
}

/** The shadow of an HVM guest table, when it has one. */
export interface ShadowTable {
  smfn: number;
  type: ShadowType;
  /** Non-zero shadow entries; `mismatch` is the shadow audit's complaint about this slot, if any. */
  entries: (TableEntry & { mismatch?: string })[];
}

export interface PageTable extends TableRef {
  level: TableLevel;
  /** The frame's Xen type and counts (PV), when known. */
  frameType?: FrameTypeName;
  pinned?: boolean;
  entries: TableEntry[];
  shadow?: ShadowTable | null;
}

/** The tables of one domain's address space, from its root; more arrive with `table`. */
export interface TablesMessage {
  type: 'tables';
  domain: string;
  domainId: number;
  vcpu: number;
  paging: PagingKind;
  root: TableRef | null;
  tables: PageTable[];
}

export interface TableMessage {
  type: 'table';
  requestId: number;
  table: PageTable | null;
}

export interface WalkLevel {
  level: TableLevel;
  table: TableRef;
  index: number;
  entry: Hex;
  flags: string[];
}

export type WalkResult =
  | { ok: true; address: Hex }
  | { ok: false; fault: 'PF' | 'GP'; code: Hex; level: number | null; explanation?: string };

/**
 * A HAP walk is two-dimensional: each guest reference (rows: the tables gL4 … gL1 the walk read,
 * then the final gpa) is itself translated through the p2m (column 0, the machine address, or null
 * where the p2m has no entry: an EPT violation), then the guest entry is read there (column 1).
 * The engine's p2m is a fixed map (hvm-paging.md §1), not a hierarchy of EPT tables, so each
 * reference has one nested translation. `failing` marks the reference that stopped the walk.
 */
export interface HapWalk {
  rows: { ref: string; gpa: Hex; nested: Hex | null; guestEntry: Hex | null }[];
  failing: { row: number; col: 0 | 1 } | null;
}

export interface WalkMessage {
  type: 'walk';
  requestId?: number;
  va: Hex;
  levels: WalkLevel[];
  result: WalkResult;
  hap?: HapWalk;
}

// ---------------------------------------------------------------- frame map

/** Frame `flags` bits. */
export const FRAME_PINNED = 1;
export const FRAME_VALIDATED = 2;
export const FRAME_SHADOW = 4;

/** Xen's type encoding (`xen-semantics.md` R1.1); 7 is WRITABLE. */
export const FRAME_TYPE_CODES: readonly FrameTypeName[] = [
  'NONE',
  'L1',
  'L2',
  'L3',
  'L4',
  'SEG_DESC',
  'NONE',
  'WRITABLE',
];
export const DOMID_XEN = 0x7ff2;

export interface FrameSummaryMessage {
  type: 'frameSummary';
  totalFrames: number;
  domains: { id: number; name: string }[];
}

/** Frames `start … start+types.length-1`: Xen type code, owner domain id, `FRAME_*` flag bits. */
export interface FramesMessage {
  type: 'frames';
  requestId: number;
  start: number;
  types: Uint8Array;
  owners: Uint16Array;
  flags: Uint8Array;
}

// ---------------------------------------------------------------- timeline

export type TimelineLane = 'trap' | 'hypercall' | 'cr';

export interface TimelineEvent {
  step: number;
  domain: string;
  vcpu: number;
  line: number;
  class: string;
  /** A short label (`PF write 0x1018`, `mmu_update -EBUSY`). */
  label: string;
  explanation?: string;
}

export interface TimelineMessage {
  type: 'timeline';
  totalSteps: number;
  currentStep: number;
  events: TimelineEvent[];
}

export interface CurrentStepMessage {
  type: 'currentStep';
  step: number;
}

// ---------------------------------------------------------------- unions

export type ToWebviewMessage =
  | TablesMessage
  | TableMessage
  | WalkMessage
  | FrameSummaryMessage
  | FramesMessage
  | TimelineMessage
  | CurrentStepMessage;

/** `requestTable.frame` is the table's mfn for PV and its gfn for HVM: what the parent entry names. */
export type FromWebviewMessage =
  | { type: 'ready'; view: 'explorer' | 'frameMap' | 'timeline' }
  | { type: 'requestWalk'; requestId: number; va: Hex }
  | { type: 'requestTable'; requestId: number; frame: number; level: TableLevel }
  | { type: 'requestFrames'; requestId: number; start: number; count: number }
  | { type: 'revealFrame'; mfn: number }
  /** A frame an HVM guest entry names: a gfn, which only the extension can turn into an mfn. */
  | { type: 'revealGuestFrame'; gfn: number }
  | { type: 'travelToStep'; step: number };

/** Which lane of the timeline an event class belongs to, or null when the timeline omits it. */
export function timelineLane(eventClass: string): TimelineLane | null {
  if (eventClass === 'cr_write') return 'cr';
  if (eventClass === 'hypercall' || eventClass === 'hypercall_result' || eventClass === 'refusal')
    return 'hypercall';
  const traps = [
    'fault',
    'ptwr',
    'fixup',
    'propagate',
    'emulate',
    'resync',
    'unshadow',
    'invlpg',
    'mmio',
    'npf',
  ];
  return traps.includes(eventClass) ? 'trap' : null;
}
