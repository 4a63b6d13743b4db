/**
 * A PV vCPU's memory accesses (xen-semantics.md §10). The hardware walks the guest's own tables —
 * the kernel base pointer in kernel mode, the user one in user mode — as a CPL 3 access with
 * CR0.WP = 1 and EFER.NXE = 1: a 64-bit PV kernel runs in ring 3, so every guest entry carries US
 * (R3.8) and only the loaded tables separate kernel from user. The vCPU's TLB is consulted first.
 *
 * An access checks every page it touches before it changes anything (a walk that faults sets no
 * A/D bit; an access spanning two pages that faults on either writes nothing), then sets A/D and
 * fills the TLB. The read-only M2P of L4 slot 256 is real memory in Xen; here its frames read from
 * the frame table's M2P (R1.4, R3.7a).
 */
import { GuestRuntimeError } from '../language/host';
import type { AccessKind } from '../events/eventTypes';
import { clearFault, describeAccess, raiseGeneralProtection, raisePageFault } from '../machine/guestFaults';
import { walkTables } from '../paging/walkTables';
import type { Walk } from '../paging/walkTables';
import { PF_I, PF_P, PF_U, PF_W, PTE_HI_NX, PTE_RW, PTE_US, joinEntry } from '../paging/pte';
import { isCanonical, pageNumber, toVa48 } from '../paging/virtualAddress';
import type { PvContext, PvVcpu } from './pvContext';
import { hex } from './refusalExplanations';
import { tryPtwr } from './writablePageTables';

const MINUS_ONE = 0xffff_ffff_ffff_ffffn;
const TOP = 1n << 64n;

function baseFor(v: PvVcpu): number {
  return v.vcpu.user ? v.userBase : v.kernelBase;
}

export function walkPv(ctx: PvContext, root: number, va48: number, access: AccessKind, setAD: boolean): Walk {
  return walkTables({
    memory: ctx.mem,
    root,
    va48,
    access,
    user: true,
    wp: true,
    nxe: true,
    allow1G: false,
    maxPhysBits: 52,
    setAD,
  });
}

/** Reads bytes of a machine frame; the M2P's frames read from the frame table (R1.4). */
export function readFrameBytes(ctx: PvContext, mfn: number, offset: number, size: number): bigint {
  const layout = ctx.machine.layout;
  if (mfn < layout.m2pBase || mfn >= layout.m2pBase + layout.m2pFrames)
    return ctx.mem.readBytes(mfn, offset, size);
  let value = 0n;
  for (let k = size - 1; k >= 0; k--) {
    const byte = (mfn - layout.m2pBase) * 4096 + offset + k;
    const entry = ctx.ft.m2p(Math.floor(byte / 8));
    value = (value << 8n) | ((entry >> BigInt((byte % 8) * 8)) & 0xffn);
  }
  return value;
}

/** `translate(VA)`: the machine address of a data read at the current mode, or −1; no side effects. */
export function translateVa(ctx: PvContext, v: PvVcpu, va: bigint): bigint {
  if (!isCanonical(va)) return MINUS_ONE;
  const root = baseFor(v);
  if (root === 0) return MINUS_ONE;
  const va48 = toVa48(va);
  const w = walkPv(ctx, root, va48, 'read', false);
  return w.ok ? BigInt(w.frame) * 4096n + BigInt(va48 % 4096) : MINUS_ONE;
}

/** The debugger's (and UVMF_MULTI's) side-effect-free read along `translate`; null when it would fault. */
export function peekGuest(ctx: PvContext, v: PvVcpu, va: bigint, size: number): bigint | null {
  if (va + BigInt(size) - 1n >= TOP) return null;
  let value = 0n;
  for (let k = size - 1; k >= 0; k--) {
    const ma = translateVa(ctx, v, va + BigInt(k));
    if (ma === MINUS_ONE) return null;
    value = (value << 8n) | readFrameBytes(ctx, Number(ma >> 12n), Number(ma & 0xfffn), 1);
  }
  return value;
}

interface PageProbe {
  readonly va48: number;
  readonly mfn: number;
  readonly hit: boolean;
}

/** What stopped a walk, for the fault event and its explanation. */
function walkFault(
  ctx: PvContext,
  v: PvVcpu,
  va: bigint,
  faultVa: bigint,
  access: AccessKind,
  w: Walk | null,
): void {
  const user = v.vcpu.user;
  let code = w === null ? (access === 'write' ? PF_W : 0) | (access === 'fetch' ? PF_I : 0) : w.errorCode;
  code = user ? code | PF_U : code & ~PF_U;
  let what: string;
  let level: number | null = null;
  let entry = null;
  let readOnlyStop = false;
  if (w === null) {
    what = `${describeAccess(access, va)} faulted: no ${user ? 'user' : 'kernel'} base pointer is loaded`;
  } else {
    let stop = w.levels[w.levels.length - 1];
    let why = 'is not present';
    if (w.cause === 'protection') {
      // The first entry on the way that lacks the right (rights combine across levels).
      for (const l of w.levels) {
        if ((l.lo & PTE_US) === 0) {
          stop = l;
          why = 'has no US (supervisor only)';
          break;
        }
        if (access === 'write' && (l.lo & PTE_RW) === 0) {
          stop = l;
          why = 'is read-only';
          readOnlyStop = true;
          break;
        }
        if (access === 'fetch' && (l.hi & PTE_HI_NX) !== 0) {
          stop = l;
          why = 'has NX';
          break;
        }
      }
    }
    level = stop.level;
    const value = joinEntry(stop.lo, stop.hi);
    entry = { mfn: stop.mfn, gfn: null, index: stop.index, value };
    what = `${describeAccess(access, va)} faulted: L${stop.level} entry ${stop.index} of mfn ${hex(stop.mfn)} (value ${hex(value)}) ${why}`;
  }
  ctx.flushEvents();
  raisePageFault(ctx.machine.log, v.vcpu, {
    addr: faultVa,
    code,
    access,
    va,
    cause: w === null ? 'not_present' : (w.cause ?? 'not_present'),
    level,
    entry,
    // A write stopped only by a read-only entry is R9.3's guest-visible #PF (no emulation applies).
    rule: access === 'write' && w !== null && w.cause === 'protection' && readOnlyStop ? 'R9.3' : 'R10.1',
    what,
    chain: 'do_page_fault \u2192 pv_inject_page_fault',
  });
}

/**
 * One guest access of `size` bytes (a read, a write of `value`, or a fetch). Returns the value read
 * (0 on a fault). Faults, ptwr emulation and the fault registers are handled here.
 */
export function accessGuest(
  ctx: PvContext,
  v: PvVcpu,
  va: bigint,
  size: number,
  access: AccessKind,
  value = 0n,
): bigint {
  if (va + BigInt(size) - 1n >= TOP) {
    throw new GuestRuntimeError(`access at ${hex(va)} of ${size} bytes runs past 2^64-1`);
  }
  if (!isCanonical(va)) {
    ctx.flushEvents();
    raiseGeneralProtection(ctx.machine.log, v.vcpu, {
      access,
      va,
      cause: 'non_canonical',
      rule: 'R10.2',
      what: `${describeAccess(access, va)} uses a non-canonical address`,
      chain: 'hardware',
    });
    return 0n;
  }
  const va48 = toVa48(va);
  const offset = va48 % 4096;
  const cross = offset + size > 4096;
  const second = cross ? va + BigInt(4096 - offset) : 0n;
  if (cross && !isCanonical(second)) {
    ctx.flushEvents();
    raiseGeneralProtection(ctx.machine.log, v.vcpu, {
      access,
      va,
      cause: 'non_canonical',
      rule: 'R10.2',
      what: `${describeAccess(access, va)} crosses into the non-canonical address ${hex(second)}`,
      chain: 'hardware',
    });
    return 0n;
  }
  const root = baseFor(v);
  const write = access === 'write';
  const fetch = access === 'fetch';
  const probes: PageProbe[] = [];
  const pageVas = cross ? [va, second] : [va];
  for (const pva of pageVas) {
    const p48 = toVa48(pva);
    const hit = v.vcpu.tlb.lookupFor(pageNumber(p48), write, true, fetch, true);
    if (hit !== undefined) {
      probes.push({ va48: p48, mfn: hit.mfn, hit: true });
      continue;
    }
    const w = root === 0 ? null : walkPv(ctx, root, p48, access, false);
    if (w === null || !w.ok) {
      const faultVa = pva === va ? va : second;
      if (write && !v.vcpu.user && w !== null && (w.errorCode & (PF_P | PF_W | PF_I)) === (PF_P | PF_W)) {
        const outcome = tryPtwr(ctx, v, va, faultVa, size, value);
        if (outcome === 'applied') {
          ctx.flushEvents();
          clearFault(v.vcpu);
          return 0n;
        }
        if (outcome === 'refused') return 0n;
      }
      walkFault(ctx, v, va, faultVa, access, w);
      return 0n;
    }
    probes.push({ va48: p48, mfn: w.frame, hit: false });
  }
  // Every page is reachable: now set A/D and fill the TLB for the pages that walked.
  const step = ctx.machine.log.getContext().step;
  for (const p of probes) {
    if (p.hit) continue;
    const w = walkPv(ctx, root, p.va48, access, true);
    v.vcpu.tlb.fill({
      vpn: pageNumber(p.va48),
      mfn: w.frame,
      rw: w.rw,
      us: w.us,
      nx: w.nx,
      global: w.global,
      filledAt: step,
    });
  }
  ctx.flushEvents();
  clearFault(v.vcpu);
  if (fetch) return 0n;
  const firstSize = cross ? 4096 - offset : size;
  if (write) {
    ctx.mem.writeBytes(probes[0].mfn, offset, firstSize, value);
    if (cross) ctx.mem.writeBytes(probes[1].mfn, 0, size - firstSize, value >> BigInt(8 * firstSize));
    return 0n;
  }
  let result = readFrameBytes(ctx, probes[0].mfn, offset, firstSize);
  if (cross) result |= readFrameBytes(ctx, probes[1].mfn, 0, size - firstSize) << BigInt(8 * firstSize);
  return result;
}
