/**
 * `mmu_update PTR, VAL, … [foreign=D]` (xen-semantics.md §5, `do_mmu_update`). Requests run in
 * order; the first refused one stops the batch (`done` = its index). A request names an entry by
 * machine address: the frame's type decides whether it is a checked page-table update
 * (`mod_lN_entry`) or a plain data write. A batch with a successful L2–L4 update flushes every
 * vCPU of the domain at the end.
 */
import type { MmuUpdateRequest } from '../language/host';
import type { Domain } from '../machine/domain';
import { PageType } from '../machine/frameTable';
import { EINVAL, ENOSYS, EPERM, ESRCH, HOLDER_NONE } from './pvContext';
import type { PvContext, PvVcpu } from './pvContext';
import { MMU_PT_UPDATE_PRESERVE_AD, modL1Entry, modUpperEntry, plainWriteEntry } from './entryUpdates';
import { getPageType, putOldGuestTable, putPageType } from './pageRefs';
import { describeFrame, describeOwner, hex, refuse, wrapReason } from './refusalExplanations';
import { flushTlbFull } from './tlbClock';

export const MMU_MACHPHYS_UPDATE = 1;

/** Whether `mfn` (any 64-bit value) is a frame owned by domain `d` (`get_page_from_gfn` of a PV domain). */
export function ownedFrame(ctx: PvContext, mfn: bigint, d: number): number {
  const m = mfn < 0x20_0000_0000_0000n ? Number(mfn) : -1;
  if (m < 0 || m >= ctx.ft.frameCount) return -1;
  return ctx.ft.refCount(m) > 0 && ctx.ft.owner(m) === d ? m : -1;
}

export interface MmuUpdateResult {
  rc: number;
  done: number;
  failedIndex: number | null;
}

/** Runs the batch; the caller logs the hypercall events and the refusal (`ctx.reason`). */
export function doMmuUpdate(
  ctx: PvContext,
  v: PvVcpu,
  requests: readonly MmuUpdateRequest[],
  foreign: Domain | null,
): MmuUpdateResult {
  putOldGuestTable(ctx, v);
  const self = v.domain;
  if (foreign !== null && foreign.id === self.id) {
    refuse(
      ctx,
      -ESRCH,
      'R5.1',
      ['do_mmu_update', 'get_pg_owner'],
      `name domain ${self.name} as the foreign domain`,
      'a domain cannot name itself',
      null,
      null,
      null,
    );
    return { rc: -ESRCH, done: 0, failedIndex: null };
  }
  const pgOwner = foreign ?? self;
  let upperUpdated = false;
  let rc = 0;
  let i = 0;
  for (; i < requests.length; i++) {
    ctx.reason = null;
    rc = doRequest(ctx, v, requests[i], self, pgOwner, foreign !== null);
    if (rc > 0) {
      upperUpdated = true;
      rc = 0;
    }
    if (rc !== 0) break;
  }
  if (upperUpdated) flushTlbFull(ctx, ctx.vcpusOf(self.id), 'upper_update');
  putOldGuestTable(ctx, v);
  return rc === 0 ? { rc: 0, done: requests.length, failedIndex: null } : { rc, done: i, failedIndex: i };
}

/** One request: 0 or a negative errno; 1 for a successful L2–L4 update (flushes at the end). */
function doRequest(
  ctx: PvContext,
  v: PvVcpu,
  req: MmuUpdateRequest,
  self: Domain,
  pgOwner: Domain,
  isForeign: boolean,
): number {
  // One BigInt step for the low 32 bits: the command, the entry index and the offset live there.
  const ptrLo = Number(BigInt.asUintN(32, req.ptr));
  const cmd = ptrLo & 7;
  if (cmd === MMU_MACHPHYS_UPDATE) return machphysUpdate(ctx, req, self, pgOwner, isForeign);
  if (cmd > 3) {
    return refuse(
      ctx,
      -ENOSYS,
      'R5.2',
      ['do_mmu_update'],
      `run command ${cmd}`,
      'only commands 0\u20133 exist',
      null,
      null,
      null,
    );
  }
  if (isForeign && !self.config.privileged) {
    return refuse(
      ctx,
      -EPERM,
      'R5.3',
      ['do_mmu_update', 'xsm_mmu_update'],
      `update on behalf of domain ${pgOwner.name}`,
      `domain ${self.name} is not a control domain`,
      null,
      null,
      null,
    );
  }
  const m = req.ptr >> 12n;
  const frame = ownedFrame(ctx, m, self.id);
  if (frame < 0) {
    const mfn = m < BigInt(ctx.ft.frameCount) ? Number(m) : -1;
    return refuse(
      ctx,
      -EINVAL,
      'R5.3',
      ['do_mmu_update', 'get_page_from_gfn'],
      `update an entry of mfn ${hex(m)}`,
      mfn < 0 ? `mfn ${hex(m)} does not exist` : `${describeOwner(ctx, mfn)}, not to domain ${self.id}`,
      null,
      mfn < 0 ? null : mfn,
      null,
    );
  }
  const index = (ptrLo & 0xfff) >>> 3;
  const lo = Number(BigInt.asUintN(32, req.val));
  const hi = Number(req.val >> 32n);
  const ft = ctx.ft;
  const type = ft.type(frame);
  if (ft.typeCount(frame) > 0 && ft.validated(frame)) {
    switch (type) {
      case PageType.L1PageTable:
        return modL1Entry(ctx, frame, index, lo, hi, cmd, self.id, pgOwner.id);
      case PageType.L2PageTable:
      case PageType.L3PageTable:
      case PageType.L4PageTable: {
        if (isForeign) {
          return refuse(
            ctx,
            -EINVAL,
            'R5.3',
            ['do_mmu_update'],
            `update L${type} entry ${index} of mfn ${hex(frame)} with foreign=${pgOwner.name}`,
            "L2\u2013L4 entries may only name the table owner's frames",
            { mfn: frame, level: type, index, value: req.val },
            frame,
            null,
          );
        }
        const rc = modUpperEntry(ctx, type, frame, index, lo, hi, cmd === MMU_PT_UPDATE_PRESERVE_AD, self.id);
        return rc === 0 ? 1 : rc;
      }
      case PageType.Writable:
        plainWriteEntry(ctx, frame, index, lo, hi);
        return 0;
      default:
        return refuse(
          ctx,
          -EINVAL,
          'R5.3',
          ['do_mmu_update'],
          `update entry ${index} of mfn ${hex(frame)}`,
          describeFrame(ctx, frame),
          null,
          frame,
          null,
        );
    }
  }
  // Not a table in use: take WRITABLE for the write (a type change if needed) and drop it again.
  if (getPageType(ctx, frame, PageType.Writable, HOLDER_NONE) !== 0) {
    wrapReason(ctx, 'do_mmu_update', null);
    return -EINVAL;
  }
  plainWriteEntry(ctx, frame, index, lo, hi);
  putPageType(ctx, frame, HOLDER_NONE);
  return 0;
}

/** `MMU_MACHPHYS_UPDATE` (R5.6). */
function machphysUpdate(
  ctx: PvContext,
  req: MmuUpdateRequest,
  self: Domain,
  pgOwner: Domain,
  isForeign: boolean,
): number {
  if (isForeign && pgOwner.isHvm) {
    return refuse(
      ctx,
      -EINVAL,
      'R5.6',
      ['do_mmu_update'],
      `set an M2P entry of domain ${pgOwner.name}`,
      `domain ${pgOwner.name} is an HVM (translated) domain`,
      null,
      null,
      null,
    );
  }
  if (isForeign && !self.config.privileged) {
    return refuse(
      ctx,
      -EPERM,
      'R5.6',
      ['do_mmu_update', 'xsm_mmu_update'],
      `set an M2P entry of domain ${pgOwner.name}`,
      `domain ${self.name} is not a control domain`,
      null,
      null,
      null,
    );
  }
  const m = req.ptr >> 12n;
  const mfn = ownedFrame(ctx, m, pgOwner.id);
  if (mfn < 0) {
    const valid = m < BigInt(ctx.ft.frameCount);
    return refuse(
      ctx,
      -EINVAL,
      'R5.6',
      ['do_mmu_update', 'get_page_from_mfn'],
      `set the M2P entry of mfn ${hex(m)}`,
      valid
        ? `${describeOwner(ctx, Number(m))}, not to domain ${pgOwner.id}`
        : `mfn ${hex(m)} does not exist`,
      null,
      valid ? Number(m) : null,
      null,
    );
  }
  ctx.ft.setM2p(mfn, req.val);
  return 0;
}
