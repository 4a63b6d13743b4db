/**
 * The one-sentence explanations of the shadow events (events.md §5, hvm-paging.md §10):
 * `WHAT — CHAIN[: RESULT]`, the chain naming Xen's functions outermost first.
 */
import type { AccessKind, ShadowTypeName, UnshadowFields } from '../events/eventTypes';
import { PTE_HI_NX, PTE_RW, PTE_US } from '../paging/pte';
import type { Walk } from '../paging/walkTables';
import { describeAccess, hex } from '../machine/guestFaults';
import type { ResyncTrigger } from './outOfSync';

const TYPE_NAMES: Record<ShadowTypeName, string> = { l4: 'L4', l3: 'L3', l2: 'L2', l1: 'L1', fl1: 'fl1' };

const RESYNC_CHAINS: Record<ResyncTrigger, string> = {
  cr3: 'sh_update_cr3 → shadow_resync_current_vcpu → sh_resync → sh_resync_l1',
  mode: 'sh_update_paging_modes → shadow_resync_all → sh_resync → sh_resync_l1',
  walk: 'sh_page_fault → gw_remove_write_accesses → sh_resync → sh_resync_l1',
  promote: 'sh_make_shadow → shadow_promote → sh_resync → sh_resync_l1',
  l2_install: 'shadow_set_l2e → sh_resync → sh_resync_l1',
  new_upper: 'shadow_resync_all → sh_resync → sh_resync_l1',
  evict: 'sh_unsync → oos_hash_add → _sh_resync → sh_resync_l1',
};

const RESYNC_CAUSES: Record<ResyncTrigger, string> = {
  cr3: 'on a CR3 write',
  mode: 'on a paging-mode change',
  walk: 'because a fault walked it as an upper table',
  promote: 'before it gets another shadow type',
  l2_install: 'as a shadow L2 entry is pointed at its shadow',
  new_upper: 'after a shadow L4/L3 entry was written',
  evict: 'to make room in the out-of-sync table',
};

function list(items: readonly number[]): string {
  return items.map((i) => String(i)).join(', ');
}

export function describeShadows(made: readonly { type: ShadowTypeName; gfn: number }[]): string {
  if (made.length === 0) return 'no shadows';
  return made.map((m) => `${TYPE_NAMES[m.type]} of gfn ${hex(m.gfn)}`).join(', ');
}

export function describeResync(gfn: number, trigger: ResyncTrigger, entries: readonly number[]): string {
  const rewritten =
    entries.length === 0
      ? 'no shadow entry differed'
      : `shadow L1 entries ${list(entries)} rewritten from the guest`;
  return `out-of-sync L1 gfn ${hex(gfn)} resynced ${RESYNC_CAUSES[trigger]}: write access removed, ${rewritten} — ${RESYNC_CHAINS[trigger]}`;
}

/** `shadow_sync_other_vcpus`: another vCPU's OOS frame brought up to date but left out of sync. */
export function describeSyncOnly(gfn: number, entries: readonly number[]): string {
  const rewritten =
    entries.length === 0
      ? 'no shadow entry differed'
      : `shadow L1 entries ${list(entries)} rewritten from the guest`;
  return `out-of-sync L1 gfn ${hex(gfn)} of another vCPU updated on a CR3 write and left out of sync: ${rewritten} — sh_update_cr3 → shadow_sync_other_vcpus → sh_resync_l1`;
}

const UNSHADOW_CHAINS: Record<UnshadowFields['reason'], string> = {
  user_mode: 'sh_page_fault → shadow_remove_all_shadows',
  early: 'sh_emulate_unmap_dest → check_for_early_unshadow → sh_remove_shadows',
  misaligned: 'hvm_emulate_write → sh_emulate_map_dest → sh_remove_shadows',
  cross_page: 'hvm_emulate_write → sh_emulate_map_dest → sh_remove_shadows',
  bad_entry: 'sh_emulate_unmap_dest → validate_guest_pt_write → sh_remove_shadows',
};

const UNSHADOW_WHY: Record<UnshadowFields['reason'], string> = {
  user_mode: 'user-mode write to page table',
  early: 'second emulated zero write in a row to page table',
  misaligned: 'misaligned emulated write to page table',
  cross_page: 'emulated write crossing into page table',
  bad_entry: 'page table written with an entry naming memory that is not RAM:',
};

export function describeUnshadow(
  gfn: number,
  reason: UnshadowFields['reason'],
  removed: readonly { type: ShadowTypeName; gfn: number }[],
): string {
  const what =
    removed.length === 0
      ? 'unpinned, no shadow removed'
      : `unshadowed (${removed.length} shadows removed: ${describeShadows(removed)})`;
  return `${UNSHADOW_WHY[reason]} gfn ${hex(gfn)}: ${what} — ${UNSHADOW_CHAINS[reason]}`;
}

export interface FixupFacts {
  readonly access: AccessKind;
  readonly va: bigint;
  readonly gfn: number;
  readonly made: readonly { type: ShadowTypeName; gfn: number }[];
  readonly adCount: number;
  readonly unsync: boolean;
  readonly sl1Index: number;
  readonly pagingOff: boolean;
  /** What stopped the hardware's walk of the shadows, e.g. `shadow L2 entry 1 missing`. */
  readonly shadowStop?: string;
}

export function describeFixup(f: FixupFacts): string {
  const access = describeAccess(f.access, f.va);
  if (f.pagingOff) {
    return `${access} with paging off faulted in the unpaged shadow: entry for gfn ${hex(f.gfn)} filled; the access completes — sh_page_fault → l1e_propagate_from_guest`;
  }
  if (f.unsync) {
    return `write to gfn ${hex(f.gfn)} (an L1) put it out of sync; the write completes without emulation — sh_page_fault → sh_unsync`;
  }
  const made = f.made.length === 0 ? '' : `made ${describeShadows(f.made)}, `;
  const ad = f.adCount === 0 ? 'no A/D bit to set' : `set A/D in ${f.adCount} guest entries`;
  const stop = f.shadowStop ?? `shadow L1 entry ${f.sl1Index} missing or read-only`;
  return `${access} faulted in the shadow (${stop}); guest tables allow it: ${made}${ad}, shadow L1 entry ${f.sl1Index} written — sh_page_fault → shadow_get_and_create_l1e → l1e_propagate_from_guest`;
}

/** The entry of the shadow walk `hw` that refused the access, for the `fixup` explanation. */
export function describeShadowStop(hw: Walk, access: AccessKind, user: boolean): string {
  const at = (level: number) => {
    const l = hw.levels[4 - level];
    return `shadow L${level} entry ${l === undefined ? '?' : l.index}`;
  };
  const level = hw.faultLevel ?? 1;
  if (hw.cause === 'not_present') return `${at(level)} missing`;
  if (hw.cause === 'protection') {
    for (const l of hw.levels) {
      if (user && (l.lo & PTE_US) === 0) return `${at(l.level)} is supervisor-only`;
      if (access === 'write' && (l.lo & PTE_RW) === 0) return `${at(l.level)} is read-only`;
      if (access === 'fetch' && (l.hi & PTE_HI_NX) !== 0) return `${at(l.level)} forbids execution`;
    }
  }
  return `${at(level)} refused it`;
}

export function describeEmulate(
  gfn: number,
  types: readonly ShadowTypeName[],
  reason: 'pt_write' | 'wp',
  validated: readonly { type: ShadowTypeName; index: number }[],
): string {
  const trapped =
    reason === 'wp'
      ? `write to gfn ${hex(gfn)} trapped: the guest runs with CR0.WP clear, so Xen emulates supervisor writes`
      : `write to gfn ${hex(gfn)} trapped: it is shadowed as ${types.map((t) => `an ${TYPE_NAMES[t]}`).join(' and ')}`;
  const prop =
    validated.length === 0
      ? 'emulated'
      : `emulated and propagated to ${validated.map((v) => `shadow ${TYPE_NAMES[v.type]} entry ${v.index}`).join(', ')}`;
  const validator =
    validated.length === 0 ? '' : ` → validate_g${validated[0].type === 'fl1' ? 'l1' : validated[0].type}e`;
  return `${trapped}; ${prop} — sh_page_fault → hvm_emulate_write${validator}`;
}

export function describeMmio(dir: AccessKind, size: number, gpa: bigint, fast: boolean): string {
  const path = fast
    ? 'sh_page_fault (fast MMIO path) → handle_mmio_with_translation'
    : 'sh_page_fault → handle_mmio_with_translation';
  if (dir === 'read')
    return `read of ${size} bytes at gpa ${hex(gpa)} has no device: it reads all ones — ${path} → hvmemul_do_io → null_read`;
  if (dir === 'write')
    return `write of ${size} bytes to gpa ${hex(gpa)} has no device: it is discarded — ${path} → hvmemul_do_io → null_write`;
  return `fetch at gpa ${hex(gpa)} cannot be emulated: there are no instruction bytes outside RAM — ${path}`;
}

export function describeInvlpg(
  va: bigint,
  cleared: { index: number; gfn: number } | null,
  fullFlush: boolean,
): string {
  if (cleared !== null) {
    return `invlpg ${hex(va)}: L1 gfn ${hex(cleared.gfn)} is out of sync, so its shadow entry ${cleared.index} is cleared and the TLB entry dropped — sh_invlpg`;
  }
  if (fullFlush)
    return `invlpg ${hex(va)} reaches an fl1 shadow (a splintered superpage, or the unpaged shadow while paging is off): the whole TLB is flushed — sh_invlpg`;
  return `invlpg ${hex(va)} drops the TLB entry for its page — sh_invlpg`;
}
