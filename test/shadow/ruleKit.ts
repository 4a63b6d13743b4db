/**
 * Shared fixture of the per-section rule tests (hvm-paging.md §3–§8): one small address space built
 * with paging off, then paging turned on, and helpers to read events by tag and the shadow state.
 *
 * Layout (gfns): L4 = 0, L3 = 1, L2 = 2, L1 = 3, data = 4. The guest L1 maps
 *   VA 0x0000 → gfn 4 (data), VA 0x1000 → gfn 3 (the L1 itself), VA 0x2000 → gfn 2 (the L2),
 * every entry `P | RW | US` with A and D clear. Each line of `body` may end in a tag (`; @name`).
 */
import { expect } from 'vitest';
import type { EngineEvent } from '../../engine/events/eventTypes';
import type { ShadowType } from '../../engine/shadow/shadowTypes';
import { eventsAt, lineOf, runShadow, shadowModelOf } from './shadowHarness';
import type { ShadowRun } from './shadowHarness';

export const P = 0x1n;
export const RW = 0x2n;
export const US = 0x4n;
export const A = 0x20n;
export const D = 0x40n;
/** The bits of a shadow entry other than its frame. */
export const FLAGS = 0x8000_0000_0000_0fffn;
export const MAGIC_HI = 0xffff_fff0_0000_0000n;

export const SETUP = [
  '    write pte_addr(0, 0), gpa(1) | P | RW | US',
  '    write pte_addr(1, 0), gpa(2) | P | RW | US',
  '    write pte_addr(2, 0), gpa(3) | P | RW | US',
  '    write pte_addr(3, 0), gpa(4) | P | RW | US',
  '    write pte_addr(3, 1), gpa(3) | P | RW | US',
  '    write pte_addr(3, 2), gpa(2) | P | RW | US',
  '    mov cr3, gpa(0)',
  '    mov cr0, cr0 | PG | WP   ; @pg',
];

export function prog(body: string, decl = 'domain g hvm memory=16M', setup = SETUP): string {
  return `${decl}\nvcpu g\n${setup.join('\n')}\n${body}\nend\n`;
}

export interface Kit {
  readonly r: ShadowRun;
  readonly src: string;
  /** Events of the line tagged `@tag`. */
  at(tag: string): EngineEvent[];
  /** Raw shadow entry `index` of the (gfn, type) shadow; throws when there is no such shadow. */
  sentry(gfn: number, type: ShadowType, index: number): bigint;
  /** The shadow record, or undefined. */
  shadow(gfn: number, type: ShadowType): { refs: number; pinned: boolean; smfn: number } | undefined;
  /** Machine frame of a gfn. */
  mfn(gfn: number): bigint;
  /** The (type, gfn) list of every live shadow, sorted. */
  live(): string[];
  /** Raw guest entry `index` of the table in `gfn`, read from guest memory. */
  gentry(gfn: number, index: number): bigint;
}

export function kit(src: string, options: { audit?: boolean } = {}): Kit {
  const r = runShadow(src, options);
  const ctx = shadowModelOf(r.engine, 'g').ctx;
  return {
    r,
    src,
    at: (tag) => eventsAt(r, lineOf(src, tag)),
    sentry(gfn, type, index) {
      const sp = ctx.hash.lookup(gfn, type);
      if (sp === undefined) throw new Error(`no ${type} shadow of gfn ${gfn}`);
      const lo = ctx.memory.readLo(sp.smfn, index);
      const hi = ctx.memory.readHi(sp.smfn, index);
      return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    },
    shadow: (gfn, type) => ctx.hash.lookup(gfn, type),
    mfn: (gfn) => BigInt(ctx.gfnToMfn(gfn)),
    live: () => [...ctx.hash.all()].map((sp) => `${sp.type}:${sp.gfn}`).sort(),
    gentry(gfn, index) {
      const mfn = ctx.gfnToMfn(gfn);
      return (
        (BigInt(ctx.memory.readHi(mfn, index) >>> 0) << 32n) | BigInt(ctx.memory.readLo(mfn, index) >>> 0)
      );
    },
  };
}

/** Runs the standard layout with `body`; asserts a clean run (no runtime error, no failed expect). */
export function std(body: string, decl?: string): Kit {
  const k = kit(prog(body, decl));
  clean(k);
  return k;
}

export function clean(k: Kit): void {
  expect(k.r.stderr).toEqual([]);
  expect(k.r.events.filter((e) => e.class === 'expect_failed')).toEqual([]);
}

/** The machine address `gfn`'s frame plus `offset`, as `print` writes it. */
export function maHex(k: Kit, gfn: number, offset = 0): string {
  return `0x${(k.mfn(gfn) * 4096n + BigInt(offset)).toString(16)}`;
}

/** A shadow L1 entry that maps `mfn` with exactly `flags` (bits 0–11 and NX). */
export function leaf(mfn: bigint, flags: bigint): bigint {
  return (mfn << 12n) | flags;
}

/** Xen's magic MMIO entry for `gfn` with the guest's RW/US bits `rwus` (sh_l1e_mmio). */
export function magic(gfn: bigint, rwus: bigint): bigint {
  return MAGIC_HI | (gfn << 4n) | P | rwus;
}
