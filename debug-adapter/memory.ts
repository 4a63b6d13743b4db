/**
 * Memory references and the `readMemory`/`writeMemory` requests. A reference names an address
 * space: `ma:0x…` (machine), `gpa:DOMAIN:0x…` (guest-physical, through the p2m) or `va:THREAD:0x…`
 * (virtual, through `translate` at the vCPU's current mode — never the TLB, no A/D, events.md §6.3).
 * Reads never change anything; a write is a raw poke of machine memory (§6.4).
 */
import type { Engine } from '../engine/engine';
import { formatValue } from '../engine/language';
import { AdapterError, parseBig } from './adapterError';
import type { AddressSpace } from './protocol';

export interface MemoryTarget {
  space: AddressSpace;
  domain: string | null;
  thread: number | null;
  address: bigint;
}

export function virtualReference(thread: number, value: bigint): string {
  return `va:${thread + 1}:${formatValue(value)}`;
}

export function parseMemoryReference(ref: string, offset: number): MemoryTarget {
  const parts = ref.split(':');
  const bad = () =>
    new AdapterError('memory', `'${ref}' is no memory reference (ma:0x…, gpa:DOMAIN:0x…, va:THREAD:0x…)`);
  const num = parseBig(parts[parts.length - 1]);
  if (num === null) throw bad();
  const address = (num + BigInt(offset)) & ((1n << 64n) - 1n);
  if (parts.length === 2 && parts[0] === 'ma')
    return { space: 'machine', domain: null, thread: null, address };
  if (parts.length === 3 && parts[0] === 'gpa')
    return { space: 'guest_physical', domain: parts[1], thread: null, address };
  if (parts.length === 3 && parts[0] === 'va' && /^\d+$/.test(parts[1]))
    return { space: 'virtual', domain: null, thread: Number(parts[1]) - 1, address };
  throw bad();
}

/** The machine address of one byte of a target, or null when it does not reach RAM. */
export function machineAddress(engine: Engine, t: MemoryTarget, byteOffset: number): bigint | null {
  const addr = t.address + BigInt(byteOffset);
  const page = addr >> 12n;
  const low = addr & 0xfffn;
  if (t.space === 'machine') return engine.machine.frameTable.isValid(Number(page)) ? addr : null;
  if (t.space === 'guest_physical') {
    const d = engine.machine.domain(t.domain ?? '');
    if (!d) throw new AdapterError('memory', `no domain '${t.domain}'`);
    const mfn = d.pfnToMfnBig(page);
    return mfn < 0 ? null : (BigInt(mfn) << 12n) | low;
  }
  const info = engine.interpreter.threads()[t.thread ?? -1];
  if (!info) throw new AdapterError('unknownThread', `no thread ${(t.thread ?? -1) + 1}`);
  const d = engine.machine.domain(info.domain);
  if (!d) return null;
  const ma = d.model.translate(d.vcpus[info.index], addr & ((1n << 64n) - 1n));
  return ma < 0n || ma === (1n << 64n) - 1n ? null : ma;
}

export interface ReadResult {
  address: string;
  data: string;
  unreadableBytes: number;
}

/** Reads up to `count` bytes; stops at the first byte that does not reach RAM. */
export function readMemory(engine: Engine, t: MemoryTarget, count: number): ReadResult {
  const bytes: number[] = [];
  for (let i = 0; i < count; i++) {
    const ma = machineAddress(engine, t, i);
    if (ma === null) break;
    bytes.push(Number(engine.machine.memory.readBytes(Number(ma >> 12n), Number(ma & 0xfffn), 1)));
  }
  return {
    address: formatValue(t.address),
    data: Buffer.from(bytes).toString('base64'),
    unreadableBytes: count - bytes.length,
  };
}

/** Pokes bytes into machine memory and logs `debugger_write`; throws when any byte misses RAM. */
export function writeMemory(engine: Engine, t: MemoryTarget, data: Buffer): number {
  const mas: bigint[] = [];
  for (let i = 0; i < data.length; i++) {
    const ma = machineAddress(engine, t, i);
    if (ma === null)
      throw new AdapterError('memory', `address ${formatValue(t.address + BigInt(i))} does not reach RAM`);
    mas.push(ma);
  }
  mas.forEach((ma, i) =>
    engine.machine.memory.writeBytes(Number(ma >> 12n), Number(ma & 0xfffn), 1, BigInt(data[i])),
  );
  if (data.length > 0) {
    const ctx = engine.machine.log.getContext();
    engine.machine.log.setContext({ ...ctx, step: engine.stepCount });
    engine.machine.log.append({
      class: 'debugger_write',
      space: t.space,
      address: t.address,
      size: data.length,
      ma: mas[0],
    });
  }
  return data.length;
}
