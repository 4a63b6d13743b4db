/**
 * Whether a TLB entry is stale: the vCPU's tables no longer give what it caches. The check is
 * `translate` (a walk at the current mode that never consults the TLB, events.md §6.3) of the
 * entry's page, compared with the frame the entry holds.
 */
import { formatValue } from '../engine/language';
import type { Domain } from '../engine/machine/domain';
import type { Vcpu } from '../engine/machine/vcpu';
import type { TlbEntry } from '../engine/paging/tlb';

const NO_TRANSLATION = (1n << 64n) - 1n;

/** The entry's canonical virtual address. */
export function tlbEntryVa(e: TlbEntry): bigint {
  const va = BigInt(e.vpn) << 12n;
  return va & (1n << 47n) ? va | 0xffff_0000_0000_0000n : va;
}

/** Why the entry is stale ("tables now give mfn 0x…", "tables now map nothing"), or null. */
export function tlbStaleness(domain: Domain, vcpu: Vcpu, e: TlbEntry): string | null {
  const now = domain.model.translate(vcpu, tlbEntryVa(e));
  if (now < 0n || now === NO_TRANSLATION) return 'tables now map nothing';
  const mfn = Number(now >> 12n);
  return mfn === e.mfn ? null : `tables now give mfn ${formatValue(BigInt(mfn))}`;
}
