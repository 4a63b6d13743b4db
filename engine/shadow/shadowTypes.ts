/**
 * Shadow paging for HVM domains (`paging=shadow`, hvm-paging.md §3–§8): the model.
 *
 * An HVM guest writes its page tables in guest-physical memory. With shadow paging the CPU never
 * walks them: Xen builds *shadow* tables in machine memory, one shadow page per guest table frame
 * and level (Xen's `SH_type_l4_64_shadow` … `SH_type_l1_64_shadow`, plus `fl1` shadows that
 * splinter a guest 2 MiB page into 512 4K entries), loads the top-level one into the real CR3, and
 * keeps every shadow entry a conservative copy of its guest entry (R4.4): never more rights, read-only
 * wherever the target is itself a guest page table, so that guest writes to tables trap and Xen can
 * emulate them and propagate the change (R5.2, R5.3). Shadows below the top are made lazily, by
 * the shadow faults of the first accesses (R3.6), and die by reference counting (R3.5).
 *
 * The model follows Xen's `multi.c`, `common.c`, `oos.c` and `hvm.c` function by function; each
 * file of this folder says which. What it simplifies, and why the guest cannot tell:
 * - Shadow pages are real machine frames of the machine pool (so the engine's one walker walks them
 *   and the debugger can show them), but the bookkeeping Xen keeps in `struct page_info` (type,
 *   reference count, pin, up-pointer, back-pointer) lives in `ShadowPage` records, found through a
 *   hash keyed by (guest frame, type) and by shadow frame.
 * - Up-pointers are kept as Xen keeps them (they decide `sh_safe_not_to_sync`), but removing a shadow
 *   clears every entry that points at it rather than only the recorded one (R7.1's Choice).
 * - Xen's writable-mapping heuristics, the shadow memory reclaim (`_shadow_prealloc`), the virtual
 *   TLB and fast emulation are left out (hvm-paging.md §11): they change how fast Xen finds
 *   things, not what the guest sees.
 * - Several vCPUs never race: statements run one at a time.
 */
import type { ShadowTypeName } from '../events/eventTypes';

export type ShadowType = ShadowTypeName;

/** Xen's order of shadow types for removal and validation (sh_remove_shadows, sh_validate_guest_entry). */
export const FRAME_SHADOW_TYPES: readonly ShadowType[] = ['l4', 'l3', 'l2', 'l1'];

/** The table level a shadow type shadows (fl1 shadows a superpage as an L1). */
export const SHADOW_LEVEL: Readonly<Record<ShadowType, number>> = { l4: 4, l3: 3, l2: 2, l1: 1, fl1: 1 };

/** The shadow type one level below an upper level's entries (non-superpage). */
export const CHILD_TYPE: Readonly<Record<number, ShadowType>> = { 4: 'l3', 3: 'l2', 2: 'l1' };

/** Bit in a frame's shadow flags (Xen's SHF_L1_64 …). */
export const SHADOW_FLAG: Readonly<Record<ShadowType, number>> = { l4: 8, l3: 4, l2: 2, l1: 1, fl1: 0 };

/** One shadow page: Xen's `struct page_info` of a shadow, `u.sh`. */
export interface ShadowPage {
  readonly type: ShadowType;
  /** The guest frame shadowed; for an fl1 the gfn of the superpage's first 4K frame. */
  readonly gfn: number;
  /** The machine frame holding the shadow entries. */
  readonly smfn: number;
  /** References (R3.5): present shadow entries pointing at it, its pin, vCPUs using it as top level. */
  refs: number;
  pinned: boolean;
  /**
   * Xen's up-pointer (`u.sh.up`, kept only by shadows that cannot be pinned): the shadow entry that
   * took a reference while none was recorded, as `upEntry(smfn, index)`; 0 when none. It is cleared
   * when that entry drops its reference, so a shadow with one reference may still have none.
   */
  up: number;
}

/** The key of shadow entry `index` of the shadow in `smfn`, as an up-pointer (never 0). */
export function upEntry(smfn: number, index: number): number {
  return smfn * 512 + index + 1;
}

/** The shadow frame an up-pointer names. */
export function upSmfn(up: number): number {
  return Math.floor((up - 1) / 512);
}

/** `PREFETCH_DISTANCE` (multi.c). */
export const PREFETCH_DISTANCE = 32;
/** `SHADOW_OOS_PAGES` and `SHADOW_OOS_FIXUPS` (private.h). */
export const OOS_PAGES = 3;
export const OOS_FIXUPS = 2;

/** Hash key of (gfn, type). */
export function shadowKey(gfn: number, type: ShadowType): number {
  return gfn * 8 + SHADOW_LEVEL_CODE[type];
}

const SHADOW_LEVEL_CODE: Readonly<Record<ShadowType, number>> = { l4: 4, l3: 3, l2: 2, l1: 1, fl1: 5 };

/** What a shadow fault, an emulated write or a CR write did that its event reports. */
export type FixupFlag = 'promote' | 'wrmap' | 'unsync' | 'oos_evict';
