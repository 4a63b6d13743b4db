/**
 * `mmu_update PTR, VAL, … [foreign=D]` (xen-semantics.md §5, `do_mmu_update`). Requests run in
 * order; the first refused one stops the batch (`done` = its index). A request names an entry by
 * machine address: the frame's type decides whether it is a checked page-table update
 * (`mod_lN_entry`) or a plain data write. A batch with a successful L2–L4 update flushes every
 * vCPU of the domain at the end.
 */
import type { MmuUpdateRequest } from '../language/host';
import type { Domain } from '../machine/domain';
import {
  FRAME_CHUNK_SIZE,
  FRAME_FLAG_VALIDATED,
  FRAME_FLAGS_TYPE_MASK,
  PageType,
} from '../machine/frameTable';
import { EINVAL, ENOSYS, EPERM, ESRCH, HOLDER_NONE } from './pvContext';
import type { PvContext, PvVcpu } from './pvContext';
import { MMU_PT_UPDATE_PRESERVE_AD, modL1Entry, modUpperEntry, plainWriteEntry } from './entryUpdates';
import { getPageType, putOldGuestTable, putPageType } from './pageRefs';
import { describeFrame, describeOwner, hex, refuse, wrapReason } from './refusalExplanations';
import { flushTlbFull } from './tlbClock';

export const MMU_MACHPHYS_UPDATE = 1;

const TWO_53 = 0x20_0000_0000_0000n;
const TWO_32 = 0x1_0000_0000;

/** Whether `mfn` (any 64-bit value) is a frame owned by domain `d` (`get_page_from_gfn` of a PV domain). */
export function ownedFrame(ctx: PvContext, mfn: bigint, d: number): number {
  return ownedFrameNumber(ctx, mfn < TWO_53 ? Number(mfn) : -1, d);
}

/** `ownedFrame` for a frame number already known to be below 2^53 (−1: none). */
function ownedFrameNumber(ctx: PvContext, m: number, d: number): number {
  if (m < 0 || m >= ctx.ft.frameCount) return -1;
  return ctx.ft.refCount(m) > 0 && ctx.ft.owner(m) === d ? m : -1;
}

/**
 * A batch's requests split once into Numbers: the `hypercall` event's `args` and the requests'
 * frame, offset and value halves, so that no request needs a BigInt step on the hot path.
 */
export interface DecodedBatch {
  readonly requests: readonly MmuUpdateRequest[];
  readonly args: { cmd: number; ptr: bigint; val: bigint }[];
  /** PTR >> 12, or −1 when PTR ≥ 2^53 (no frame that big exists); index i is request i. */
  readonly frame: Float64Array;
  /** PTR & 0xfff: the command in its low 3 bits, the entry's byte offset above them. */
  readonly offset: Int32Array;
  /** VAL's low and high 32 bits. */
  readonly lo: Float64Array;
  readonly hi: Float64Array;
}

/**
 * The arrays of the batch being run, reused by every batch (a statement runs to its end before the
 * next one decodes, and a typed array costs more to create than a few requests to decode).
 */
let scratch = {
  frame: new Float64Array(16),
  offset: new Int32Array(16),
  lo: new Float64Array(16),
  hi: new Float64Array(16),
};

/** Decodes a batch; the result is valid until the next call. */
export function decodeBatch(requests: readonly MmuUpdateRequest[]): DecodedBatch {
  const n = requests.length;
  if (scratch.frame.length < n) {
    const size = 2 ** Math.ceil(Math.log2(n));
    scratch = {
      frame: new Float64Array(size),
      offset: new Int32Array(size),
      lo: new Float64Array(size),
      hi: new Float64Array(size),
    };
  }
  const batch: DecodedBatch = {
    requests,
    args: new Array<{ cmd: number; ptr: bigint; val: bigint }>(n),
    ...scratch,
  };
  for (let i = 0; i < n; i++) {
    const { ptr, val } = requests[i];
    // Values below 2^53 convert to a Number exactly; division and a multiply split them (a
    // floating-point `%` costs more than the rest of the split).
    if (ptr < TWO_53) {
      const p = Number(ptr);
      const m = Math.floor(p / 4096);
      batch.frame[i] = m;
      batch.offset[i] = p - m * 4096;
    } else {
      batch.frame[i] = -1;
      batch.offset[i] = Number(BigInt.asUintN(12, ptr));
    }
    if (val < TWO_53) {
      const v = Number(val);
      const hi = Math.floor(v / TWO_32);
      batch.hi[i] = hi;
      batch.lo[i] = v - hi * TWO_32;
    } else {
      batch.lo[i] = Number(BigInt.asUintN(32, val));
      batch.hi[i] = Number(val >> 32n);
    }
    batch.args[i] = { cmd: batch.offset[i] & 7, ptr, val };
  }
  return batch;
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
  batch: DecodedBatch,
  foreign: Domain | null,
): MmuUpdateResult {
  const requests = batch.requests;
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
    rc = doRequest(ctx, batch, i, self, pgOwner, foreign !== null);
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

/** Request `i`: 0 or a negative errno; 1 for a successful L2–L4 update (flushes at the end). */
function doRequest(
  ctx: PvContext,
  batch: DecodedBatch,
  i: number,
  self: Domain,
  pgOwner: Domain,
  isForeign: boolean,
): number {
  const req = batch.requests[i];
  const offset = batch.offset[i];
  const m = batch.frame[i];
  const cmd = offset & 7;
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
  const frame = ownedFrameNumber(ctx, m, self.id);
  if (frame < 0) {
    const big = req.ptr >> 12n;
    const mfn = big < BigInt(ctx.ft.frameCount) ? Number(big) : -1;
    return refuse(
      ctx,
      -EINVAL,
      'R5.3',
      ['do_mmu_update', 'get_page_from_gfn'],
      `update an entry of mfn ${hex(big)}`,
      mfn < 0 ? `mfn ${hex(big)} does not exist` : `${describeOwner(ctx, mfn)}, not to domain ${self.id}`,
      null,
      mfn < 0 ? null : mfn,
      null,
    );
  }
  const index = offset >>> 3;
  const lo = batch.lo[i];
  const hi = batch.hi[i];
  // One chunk lookup for the frame's type, type count and validated bit (the table's chunk is
  // written by the update anyway).
  const chunk = ctx.ft.writableChunk(frame);
  const slot = frame & (FRAME_CHUNK_SIZE - 1);
  const flags = chunk.flags[slot];
  const type = (flags & FRAME_FLAGS_TYPE_MASK) as PageType;
  if (chunk.typeCount[slot] > 0 && (flags & FRAME_FLAG_VALIDATED) !== 0) {
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
            `be updated with foreign=${pgOwner.name}`,
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
