/**
 * The page-table explorer: the stopped vCPU's tables from CR3, one table per request, and walks of
 * a typed address. Table contents come from the same source as the Domains tree; walks from
 * `pagewalk/walk`. A shadow-paged guest's tables arrive with the shadow Xen keeps of each
 * (`pagewalk/shadowPair`, then `pagewalk/pageTable` with `which: 'shadow'`), shown side by side.
 */
import * as vscode from 'vscode';
import type { DomainSummary, VcpuSummary } from '../../debug-adapter/protocol';
import { FRAME_TYPE_CODES } from '../../webview/protocol';
import type {
  FrameTypeName,
  FromWebviewMessage,
  Hex,
  PageTable,
  PagingKind,
  ShadowTable,
  ShadowType,
  TableLevel,
  WalkMessage,
} from '../../webview/protocol';
import { parseHex } from '../bits';
import type { PagewalkSessions, StopInfo } from '../debug/pagewalkSessions';
import { ENTRIES_PER_TABLE, readTable } from '../views/pageTableSource';
import type { TableLocation } from '../views/pageTableSource';
import { WebviewPanelHost } from './webviewPanel';

const PAGING: Record<DomainSummary['kind'], PagingKind> = {
  pv: 'pv',
  'hvm-shadow': 'shadow',
  'hvm-hap': 'hap',
};

export class ExplorerPanel extends WebviewPanelHost {
  private target: { domain: DomainSummary; vcpu: VcpuSummary; stop: StopInfo } | null = null;

  constructor(extensionUri: vscode.Uri, sessions: PagewalkSessions) {
    super(extensionUri, sessions, 'explorer', 'Page Tables');
  }

  /** Opens the explorer and, when given, walks `va` at once ("walk this VA"). */
  async open(va?: string): Promise<void> {
    this.show();
    if (va && this.target) await this.walk(va as Hex);
  }

  protected async onStateChanged(stop: StopInfo | null): Promise<void> {
    if (!stop) return;
    const { domains } = await this.sessions.request('pagewalk/domains', {}, stop.session);
    let found: { domain: DomainSummary; vcpu: VcpuSummary } | null = null;
    for (const domain of domains) {
      const vcpu = domain.vcpus.find((v) => v.threadId === stop.threadId) ?? null;
      if (vcpu) found = { domain, vcpu };
      if (found) break;
    }
    found ??= domains[0]?.vcpus[0] ? { domain: domains[0], vcpu: domains[0].vcpus[0] } : null;
    if (!found) return;
    this.target = { ...found, stop };
    const { domain, vcpu } = found;
    const pagingOn = domain.kind === 'pv' || (parseHex(vcpu.cr0) & 0x80000000n) !== 0n;
    const rootFrame = Number(parseHex(vcpu.cr3) >> 12n) & 0xffffffffff;
    const root = pagingOn ? await this.table(rootFrame, 4) : null;
    this.post({
      type: 'tables',
      domain: domain.name,
      domainId: domain.id,
      vcpu: vcpu.index,
      paging: PAGING[domain.kind],
      root: root ? { mfn: root.mfn, gfn: root.gfn } : null,
      tables: root ? [root] : [],
    });
  }

  protected async onMessage(m: Exclude<FromWebviewMessage, { type: 'ready' }>): Promise<void> {
    switch (m.type) {
      case 'requestTable':
        this.post({ type: 'table', requestId: m.requestId, table: await this.table(m.frame, m.level) });
        return;
      case 'requestWalk':
        await this.walk(m.va, m.requestId);
        return;
      case 'revealFrame':
        await vscode.commands.executeCommand('pagewalk.showFrame', m.mfn);
        return;
      case 'revealGuestFrame': {
        // pagewalk/pageTable takes its frame in table space (gfn for HVM) and answers the mfn behind it.
        const t = this.target;
        if (!t) return;
        const threadId = t.vcpu.threadId ?? t.stop.threadId;
        const { mfn } = await this.sessions.request('pagewalk/pageTable', { threadId, frame: m.gfn, level: 1, start: 0, count: 1 }, t.stop.session); // prettier-ignore
        await vscode.commands.executeCommand('pagewalk.showFrame', mfn);
        return;
      }
      case 'travelToStep':
      case 'requestFrames':
        return;
    }
  }

  private async table(frame: number, level: TableLevel): Promise<PageTable | null> {
    const t = this.target;
    if (!t) return null;
    const location: TableLocation = {
      session: t.stop.session,
      threadId: t.vcpu.threadId ?? t.stop.threadId,
      domain: t.domain.name,
      kind: t.domain.kind,
      frame,
      level,
      vaBase: 0n,
    };
    const { mfn, rows } = await readTable(this.sessions, location, 0, ENTRIES_PER_TABLE);
    const hvm = t.domain.kind !== 'pv';
    const table: PageTable = {
      mfn: mfn ?? frame,
      gfn: hvm ? frame : null,
      level,
      entries: rows.filter((r) => r.value !== '0x0').map((r) => ({ index: r.index, value: r.value as Hex })),
    };
    if (t.domain.kind === 'hvm-shadow') table.shadow = await this.shadowOf(frame, level);
    if (!hvm) {
      // PV table frames carry Xen's type and pin state: the explorer shows them in each table's header.
      const { rows: ft } = await this.sessions.request('pagewalk/frameTable', { start: frame, count: 1 }, t.stop.session); // prettier-ignore
      if (ft[0] && FRAME_TYPE_CODES.includes(ft[0].type as FrameTypeName)) {
        table.frameType = ft[0].type as FrameTypeName;
        table.pinned = ft[0].pinned;
      }
    }
    return table;
  }

  /**
   * The shadow Xen keeps of guest table `gfn` at `level`, shown beside it; null when it has none
   * (not shadowed yet, or only as another level). The webview marks the slots where the shadow
   * grants more than the guest entry.
   */
  private async shadowOf(gfn: number, level: TableLevel): Promise<ShadowTable | null> {
    const t = this.target;
    if (!t) return null;
    const threadId = t.vcpu.threadId ?? t.stop.threadId;
    const pair = await this.sessions.request('pagewalk/shadowPair', { threadId, gfn }, t.stop.session);
    const wanted = level === 1 ? ['l1', 'fl1'] : [`l${level}`];
    const found = pair.shadows.find((s) => wanted.includes(s.type));
    if (!found) return null;
    const shadow = await this.sessions.request(
      'pagewalk/pageTable',
      { threadId, which: 'shadow', frame: found.mfn, level },
      t.stop.session,
    );
    return {
      smfn: found.mfn,
      type: found.type as ShadowType,
      entries: shadow.entries
        .filter((e) => e.value !== '0x0')
        .map((e) => ({ index: e.index, value: e.value as Hex })),
    };
  }

  private async walk(va: Hex, requestId?: number): Promise<void> {
    const t = this.target;
    if (!t) return;
    const threadId = t.vcpu.threadId ?? t.stop.threadId;
    const w = await this.sessions.request('pagewalk/walk', { threadId, va }, t.stop.session);
    const hvm = t.domain.kind !== 'pv';
    const message: WalkMessage = {
      type: 'walk',
      va: w.va as Hex,
      levels: w.levels.map((l) => ({
        level: l.level as TableLevel,
        table: { mfn: l.mfn, gfn: hvm ? l.frame : null },
        index: l.index,
        entry: l.entry as Hex,
        flags: l.flags,
      })),
      result:
        w.ok && w.ma
          ? { ok: true, address: w.ma as Hex }
          : { ok: false, fault: 'PF', code: '0x0', level: w.levels.length ? w.levels[w.levels.length - 1].level : null, explanation: w.fault ?? undefined }, // prettier-ignore
    };
    if (w.hap)
      message.hap = {
        rows: w.hap.rows.map((r) => ({
          ref: r.ref,
          gpa: r.gpa as Hex,
          nested: r.ma as Hex | null,
          guestEntry: r.entry as Hex | null,
        })),
        failing: w.hap.failing,
      };
    if (requestId !== undefined) message.requestId = requestId;
    this.post(message);
  }
}
