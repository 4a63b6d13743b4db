/**
 * One page table's entries for the Domains tree. The adapter's `pagewalk/pageTable` answers with
 * decoded rows; when an adapter does not offer it (error `unsupported`), the same rows are built
 * from a plain DAP `readMemory` of the table's 4 KiB — `gpa:DOMAIN:…` for HVM guest tables (table
 * space is guest-physical) and `ma:…` for PV — so the tree only ever uses the documented protocol.
 */
import type * as vscode from 'vscode';
import type { DomainKindName, PageTableEntryRow } from '../../debug-adapter/protocol';
import { PTE_FIELDS, entrySpan, hex, setFlags } from '../bits';
import type { PagewalkSessions } from '../debug/pagewalkSessions';

export const ENTRIES_PER_TABLE = 512;
const PFN_MASK = ((1n << 52n) - 1n) & ~0xfffn;

export interface TableLocation {
  session: vscode.DebugSession;
  threadId: number;
  domain: string;
  kind: DomainKindName;
  /** Table frame in table space. */
  frame: number;
  level: number;
  /** VA of the table's first entry. */
  vaBase: bigint;
}

export async function readTableRows(
  sessions: PagewalkSessions,
  t: TableLocation,
  start: number,
  count: number,
): Promise<PageTableEntryRow[]> {
  return (await readTable(sessions, t, start, count)).rows;
}

/**
 * The rows of a table and the machine frame that holds it (for HVM tables the adapter translates
 * the gfn through the p2m; the `readMemory` fallback cannot, so its `mfn` is null there).
 */
export async function readTable(
  sessions: PagewalkSessions,
  t: TableLocation,
  start: number,
  count: number,
): Promise<{ mfn: number | null; rows: PageTableEntryRow[] }> {
  try {
    const r = await sessions.request(
      'pagewalk/pageTable',
      { threadId: t.threadId, frame: t.frame, level: t.level, start, count },
      t.session,
    );
    // Flags are documented as separate names; tolerate `P|RW`-style strings too.
    const rows = r.entries.map((e) => ({
      ...e,
      flags: e.flags.flatMap((f) => f.split(/[|\s]+/)).filter((f) => f && f !== '0'),
    }));
    return { mfn: r.mfn, rows };
  } catch (e) {
    if (!/not implemented|unsupported|unknown request/i.test(String((e as Error).message ?? e))) throw e;
    return { mfn: t.kind === 'pv' ? t.frame : null, rows: await readTableFromMemory(t, start, count) };
  }
}

async function readTableFromMemory(
  t: TableLocation,
  start: number,
  count: number,
): Promise<PageTableEntryRow[]> {
  const address = hex(BigInt(t.frame) * 4096n + BigInt(start) * 8n);
  const memoryReference = t.kind === 'pv' ? `ma:${address}` : `gpa:${t.domain}:${address}`;
  const body = (await t.session.customRequest('readMemory', { memoryReference, count: count * 8 })) as {
    data?: string;
  };
  const bytes = Buffer.from(body?.data ?? '', 'base64');
  const values: bigint[] = [];
  for (let i = 0; i < count; i++) values.push(i * 8 + 8 <= bytes.length ? bytes.readBigUInt64LE(i * 8) : 0n);
  return rowsFromValues(values, start, t.level, t.vaBase);
}

/** Decodes raw entries into rows, merging each run of not-present entries into one row. */
export function rowsFromValues(
  values: bigint[],
  start: number,
  level: number,
  vaBase: bigint,
): PageTableEntryRow[] {
  const rows: PageTableEntryRow[] = [];
  const span = entrySpan(level);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    const index = start + i;
    const present = (value & 1n) === 1n;
    const last = rows[rows.length - 1];
    if (!present && last && !last.present && last.value === '0x0' && value === 0n) {
      last.runLength++;
      continue;
    }
    const flags = setFlags(value, PTE_FIELDS);
    const large = flags.includes('PS') && (level === 2 || level === 3);
    rows.push({
      index,
      runLength: 1,
      value: hex(value),
      present,
      flags,
      target: present ? Number((value & PFN_MASK) >> 12n) : null,
      vaStart: hex(canonical(vaBase + BigInt(index) * span)),
      expandable: present && level > 1 && !large,
    });
  }
  return rows;
}

/** Sign-extends bit 47, as the hardware does, so upper-half addresses read as 0xffff8…. */
export function canonical(va: bigint): bigint {
  return va & (1n << 47n) ? va | 0xffff000000000000n : va;
}
