/**
 * `update_va_mapping VA, VAL, FLAGS` (xen-semantics.md R7, `do_update_va_mapping`): the L1 entry
 * that maps VA in the vCPU's current kernel tables is updated with `mod_l1_entry`, then the TLB is
 * flushed as FLAGS asks — or not at all, which leaves the old translation cached (a stale entry).
 */
import { PageType } from '../machine/frameTable';
import { PTE_P, PTE_PS } from '../paging/pte';
import { tableIndex, toVa48 } from '../paging/virtualAddress';
import type { PvContext, PvVcpu } from './pvContext';
import { EFAULT, EINVAL } from './pvContext';
import { modL1Entry } from './entryUpdates';
import { addrOk } from './mmuextOps';
import { describeFrame, hex, refuse } from './refusalExplanations';
import { flushTlbFull, flushTlbOne } from './tlbClock';
import { entryMfn } from './validateTables';
import { peekGuest } from './pvWalk';

const UVMF_FLUSHTYPE_MASK = 3n;
const UVMF_TLB_FLUSH = 1n;
const UVMF_INVLPG = 2n;
const UVMF_LOCAL = 0n;
const UVMF_ALL = 4n;

/** The L1 frame and index that map VA in the kernel tables (`map_guest_l1e`), or −1. */
export function findGuestL1(ctx: PvContext, v: PvVcpu, va48: number): number {
  let table = v.kernelBase;
  if (table === 0) return -1;
  for (let level = 4; level >= 2; level--) {
    const i = tableIndex(va48, level);
    const lo = ctx.mem.readLo(table, i);
    if ((lo & PTE_P) === 0 || (level === 2 && (lo & PTE_PS) !== 0)) return -1;
    table = entryMfn(lo, ctx.mem.readHi(table, i));
  }
  return table;
}

export function doUpdateVaMapping(ctx: PvContext, v: PvVcpu, va: bigint, val: bigint, flags: bigint): number {
  const d = v.domain.id;
  if (!addrOk(va)) {
    return refuse(
      ctx,
      -EINVAL,
      'R7',
      ['do_update_va_mapping'],
      `update the mapping of ${hex(va)}`,
      'the address is not a guest address (__addr_ok)',
      null,
      null,
      null,
    );
  }
  const va48 = toVa48(va);
  const l1 = findGuestL1(ctx, v, va48);
  if (l1 < 0) {
    return refuse(
      ctx,
      -EINVAL,
      'R7',
      ['do_update_va_mapping', 'map_guest_l1e'],
      `update the mapping of ${hex(va)}`,
      v.kernelBase === 0 ? 'no kernel base pointer is loaded' : 'no L1 maps it in the kernel tables',
      null,
      null,
      null,
    );
  }
  const ft = ctx.ft;
  if (
    !ft.isValid(l1) ||
    ft.owner(l1) !== d ||
    ft.refCount(l1) === 0 ||
    ft.type(l1) !== PageType.L1PageTable ||
    ft.typeCount(l1) === 0 ||
    !ft.validated(l1)
  ) {
    return refuse(
      ctx,
      -EINVAL,
      'R7',
      ['do_update_va_mapping'],
      `update the mapping of ${hex(va)} in mfn ${hex(l1)}`,
      ft.isValid(l1)
        ? `${describeFrame(ctx, l1)}, not an L1 page table in use of domain ${d}`
        : `mfn ${hex(l1)} does not exist`,
      null,
      ft.isValid(l1) ? l1 : null,
      null,
    );
  }
  const lo = Number(val & 0xffffffffn);
  const hi = Number((val >> 32n) & 0xffffffffn);
  const rc = modL1Entry(ctx, l1, tableIndex(va48, 1), lo, hi, 0, d, d);
  if (rc !== 0) return rc;
  const kind = flags & UVMF_FLUSHTYPE_MASK;
  if (kind !== UVMF_TLB_FLUSH && kind !== UVMF_INVLPG) return 0;
  const target = flags & ~UVMF_FLUSHTYPE_MASK;
  let vcpus: PvVcpu[];
  if (target === UVMF_LOCAL) vcpus = [v];
  else if (target === UVMF_ALL) vcpus = ctx.vcpusOf(d);
  else {
    // UVMF_MULTI: a pointer to a bitmap of vCPUs, read through the current tables.
    const bits = peekGuest(ctx, v, target, 8);
    if (bits === null) {
      return refuse(
        ctx,
        -EFAULT,
        'R7',
        ['do_update_va_mapping', 'vcpumask_to_pcpumask'],
        `read the vCPU bitmap at ${hex(target)}`,
        'the read would fault',
        null,
        null,
        null,
      );
    }
    vcpus = ctx.vcpusOf(d).filter((x) => x.vcpu.index < 64 && ((bits >> BigInt(x.vcpu.index)) & 1n) === 1n);
  }
  if (kind === UVMF_TLB_FLUSH) flushTlbFull(ctx, vcpus, 'update_va_mapping');
  else flushTlbOne(ctx, vcpus, va, va48, 'update_va_mapping');
  return 0;
}
