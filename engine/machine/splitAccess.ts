/**
 * Guest accesses of 1–8 bytes, little-endian, that may span two 4 KiB pages
 * (guest-language.md § Statements): the pieces of an access, and the reads and writes of its bytes
 * once each page has been translated to a machine frame.
 */
import type { MachineMemory } from '../memory/machineMemory';

export const MASK64 = 0xffff_ffff_ffff_ffffn;

export interface AccessPiece {
  /** Address of the piece's first byte (the access's address, or the second page's first byte). */
  readonly addr: bigint;
  /** Offset in its page. */
  readonly offset: number;
  readonly size: number;
}

/** One piece, or two when the bytes cross a page boundary (lower page first). */
export function splitAccess(addr: bigint, size: number): AccessPiece[] {
  const offset = Number(addr & 0xfffn);
  if (offset + size <= 4096) return [{ addr, offset, size }];
  const first = 4096 - offset;
  return [
    { addr, offset, size: first },
    { addr: addr + BigInt(first), offset: 0, size: size - first },
  ];
}

/** All ones of `size` bytes: what the null MMIO handler reads (hvm-paging.md R1.2). */
export function allOnes(size: number): bigint {
  return (1n << BigInt(size * 8)) - 1n;
}

/** Reads the pieces from their frames and assembles the little-endian value. */
export function readPieces(
  memory: MachineMemory,
  pieces: readonly AccessPiece[],
  mfns: readonly number[],
): bigint {
  let value = 0n;
  let shift = 0n;
  for (let i = 0; i < pieces.length; i++) {
    value |= memory.readBytes(mfns[i], pieces[i].offset, pieces[i].size) << shift;
    shift += BigInt(pieces[i].size * 8);
  }
  return value;
}

/** Writes the low bytes of `value` across the pieces' frames. */
export function writePieces(
  memory: MachineMemory,
  pieces: readonly AccessPiece[],
  mfns: readonly number[],
  value: bigint,
): void {
  let v = value;
  for (let i = 0; i < pieces.length; i++) {
    memory.writeBytes(mfns[i], pieces[i].offset, pieces[i].size, v);
    v >>= BigInt(pieces[i].size * 8);
  }
}

/** Whether an access's last byte would lie above 2^64 − 1 (a run-time error). */
export function accessOverflows(addr: bigint, size: number): boolean {
  return addr + BigInt(size) - 1n > MASK64;
}
