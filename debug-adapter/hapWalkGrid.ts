/**
 * The two-dimensional walk of a HAP domain (hvm-paging.md R9.1) as rows for the explorer's grid:
 * every guest reference the walk made — each table entry it read, then the final gpa — with the
 * machine address the p2m gives it and the guest entry read there. The row where the walk stopped
 * is marked: column 0 when the p2m has no entry for the reference (an EPT violation, `npf`),
 * column 1 when the guest entry itself refused the access.
 */
import { formatValue } from '../engine/language';
import type { Domain } from '../engine/machine/domain';
import type { Walk } from '../engine/paging/walkTables';
import type { HapWalkGrid, HapReference } from './protocol';

const ENTRY_BYTES = 8n;

export function hapWalkGrid(domain: Domain, walk: Walk | null, va: bigint): HapWalkGrid {
  const rows: HapReference[] = [];
  const reference = (ref: string, gfn: number, offset: bigint, entry: bigint | null): void => {
    const mfn = domain.pfnToMfnBig(BigInt(gfn));
    rows.push({
      ref,
      gpa: formatValue((BigInt(gfn) << 12n) + offset),
      ma: mfn < 0 ? null : formatValue((BigInt(mfn) << 12n) + offset),
      entry: entry === null ? null : formatValue(entry),
    });
  };
  const pageOffset = va & 0xfffn;
  // Paging off: the address is a gpa and its p2m translation is the only reference.
  if (walk === null) {
    reference('data', Number(va >> 12n), pageOffset, null);
    return { rows, failing: rows[0].ma === null ? { row: 0, col: 0 } : null };
  }
  for (const l of walk.levels) {
    const entry = (BigInt(l.hi >>> 0) << 32n) | BigInt(l.lo >>> 0);
    reference(`gL${l.level}`, l.frame, BigInt(l.index) * ENTRY_BYTES, entry);
  }
  if (walk.cause === 'unbacked_table' && walk.unbackedFrame !== null && walk.faultLevel !== null) {
    const index = (va >> BigInt(12 + 9 * (walk.faultLevel - 1))) & 0x1ffn;
    reference(`gL${walk.faultLevel}`, walk.unbackedFrame, index * ENTRY_BYTES, null);
    return { rows, failing: { row: rows.length - 1, col: 0 } };
  }
  if (!walk.ok) return { rows, failing: { row: rows.length - 1, col: 1 } };
  reference('data', walk.frame, pageOffset, null);
  return { rows, failing: rows[rows.length - 1].ma === null ? { row: rows.length - 1, col: 0 } : null };
}
