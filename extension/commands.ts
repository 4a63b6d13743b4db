/**
 * The commands of the palette, the view toolbars and the context menus. Each asks the adapter
 * through a `pagewalk/*` request or plain DAP and shows the answer in the Pagewalk output channel
 * or a panel; none reads engine state directly.
 */
import * as vscode from 'vscode';
import { hex } from './bits';
import type { PagewalkSessions } from './debug/pagewalkSessions';
import { travelToStep } from './debug/timeTravel';
import type { EntryNode } from './views/nodes/entryNode';
import type { RegisterNode } from './views/nodes/registerNode';
import type { TrapsTreeProvider, EventNode } from './views/trapsTree';
import { TRAP_EVENT_CLASSES } from './views/trapsTree';
import type { ExplorerPanel } from './webviews/explorerPanel';
import type { FrameMapPanel } from './webviews/frameMapPanel';
import type { TimelinePanel } from './webviews/timelinePanel';

export interface CommandTargets {
  sessions: PagewalkSessions;
  output: vscode.OutputChannel;
  explorer: ExplorerPanel;
  frameMap: FrameMapPanel;
  timeline: TimelinePanel;
  traps: TrapsTreeProvider;
  /** The examples folder the extension ships. */
  examplesUri: vscode.Uri;
  refresh: () => void;
}

function requireStop(t: CommandTargets) {
  const stop = t.sessions.stop;
  if (!stop) throw new Error('Pause a Pagewalk debug session first.');
  return stop;
}

function show(t: CommandTargets, title: string, text: string): void {
  t.output.appendLine(`── ${title}`);
  t.output.appendLine(text);
  t.output.show(true);
}

const isAddress = (s: string) => (/^(0x[0-9a-f_]+|\d+)$/i.test(s.trim()) ? null : 'a number: 0x… or decimal');

export function registerCommands(t: CommandTargets): vscode.Disposable[] {
  const reg = (id: string, run: (...args: never[]) => unknown) =>
    vscode.commands.registerCommand(id, async (...args: never[]) => {
      try {
        return await run(...args);
      } catch (e) {
        void vscode.window.showErrorMessage(`Pagewalk: ${(e as Error).message ?? String(e)}`);
        return undefined;
      }
    });

  const translate = async (vaArg?: string) => {
    const stop = requireStop(t);
    const va = vaArg ?? (await vscode.window.showInputBox({ prompt: 'Virtual address to translate', validateInput: isAddress })); // prettier-ignore
    if (!va) return undefined;
    const w = await t.sessions.request('pagewalk/walk', { threadId: stop.threadId, va: hex(BigInt(va.replace(/_/g, ''))) }, stop.session); // prettier-ignore
    show(t, `walk ${w.va}`, w.text);
    void vscode.window.showInformationMessage(w.ok ? `${w.va} → machine ${w.ma} (guest-physical ${w.gpa})` : `${w.va}: ${w.fault ?? 'does not translate'}`); // prettier-ignore
    return w;
  };

  const showFrame = async (mfnArg?: number) => {
    const stop = requireStop(t);
    const text = mfnArg === undefined ? await vscode.window.showInputBox({ prompt: 'Machine frame number (mfn)', validateInput: isAddress }) : String(mfnArg); // prettier-ignore
    if (!text) return undefined;
    const mfn = Number(BigInt(text.replace(/_/g, '')));
    const { rows } = await t.sessions.request('pagewalk/frameTable', { start: mfn, count: 1 }, stop.session);
    const f = rows[0];
    if (!f) throw new Error(`no frame ${hex(mfn)}`);
    show(t, `frame ${hex(mfn)}`, `owner ${f.owner}  pfn ${f.pfn === null ? '-' : hex(f.pfn)}  type ${f.type} x${f.typeCount}  refs ${f.refCount}${f.pinned ? '  pinned' : ''}${f.validated ? '  validated' : ''}  m2p ${f.m2p}`); // prettier-ignore
    return f;
  };

  const evaluate = async (expression: string) => {
    const stop = requireStop(t);
    const r = (await stop.session.customRequest('evaluate', { expression, context: 'repl' })) as {
      result: string;
    };
    show(t, expression, r.result);
    return r.result;
  };

  const diff = async (fromArg?: number) => {
    const stop = requireStop(t);
    const text = fromArg === undefined ? await vscode.window.showInputBox({ prompt: 'Diff the current state against step…', validateInput: isAddress }) : String(fromArg); // prettier-ignore
    if (!text) return undefined;
    const d = await t.sessions.request('pagewalk/diff', { from: Number(text) }, stop.session);
    const lines = [
      `# Pagewalk diff: step ${d.from} → ${d.to}${d.truncated ? ' (truncated)' : ''}`,
      '',
      '## registers',
      ...d.registers.map((r) => `${r.vcpu} ${r.register}: ${r.before} → ${r.after}`),
      '',
      '## frames',
      ...d.frames.map((f) => `mfn ${hex(f.mfn)} ${f.field}: ${f.before} → ${f.after}`),
      '',
      '## memory',
      ...d.memory.map((m) => `${m.ma} (mfn ${hex(m.mfn)}[${m.index}]): ${m.before} → ${m.after}`),
    ];
    const doc = await vscode.workspace.openTextDocument({ content: lines.join('\n'), language: 'markdown' });
    await vscode.window.showTextDocument(doc, { preview: true });
    return d;
  };

  const addFunctionBreakpoint = (name: string, condition: string) => {
    vscode.debug.addBreakpoints([new vscode.FunctionBreakpoint(name, true, condition)]);
    void vscode.window.showInformationMessage(`Pagewalk: break on ${name} when ${condition}`);
  };

  return [
    reg('pagewalk.translateAddress', translate),
    reg('pagewalk.showFrame', showFrame),
    reg('pagewalk.openExplorer', () => t.explorer.open()),
    reg('pagewalk.openFrameMap', () => t.frameMap.show()),
    reg('pagewalk.openTimeline', () => t.timeline.show()),
    reg('pagewalk.auditNow', () => evaluate('audit')),
    reg('pagewalk.diffAgainstStep', diff),
    reg('pagewalk.refreshViews', () => t.refresh()),
    reg('pagewalk.walkThisVa', (node: EntryNode) => t.explorer.open(node.row.vaStart).then(() => translate(node.row.vaStart))), // prettier-ignore
    reg('pagewalk.revealInMemory', async (node: EntryNode) => {
      const stop = requireStop(t);
      if (node.row.target === null) return;
      const ref = node.table.kind === 'pv' ? `ma:${hex(node.row.target * 4096)}` : `gpa:${node.table.domain}:${hex(node.row.target * 4096)}`; // prettier-ignore
      const body = (await stop.session.customRequest('readMemory', { memoryReference: ref, count: 256 })) as { data?: string }; // prettier-ignore
      const bytes = Buffer.from(body.data ?? '', 'base64');
      const rows: string[] = [];
      for (let i = 0; i < bytes.length; i += 8)
        rows.push(`${ref}+${hex(i).padEnd(5)} ${hex(bytes.readBigUInt64LE(i)).padStart(18)}`);
      show(t, `memory at ${ref}`, rows.join('\n'));
    }),
    reg('pagewalk.breakOnEntryChange', (node: EntryNode) => {
      const { kind, frame } = node.table;
      const index = node.row.index;
      // PV and HAP log each stored entry as `entry_update` (events.md §3); under shadow paging a
      // guest write to a shadowed table traps and is logged as `emulate`, by byte offset.
      if (kind === 'hvm-shadow')
        addFunctionBreakpoint('emulate', `gfn == ${hex(frame)} && offset >= ${index * 8} && offset < ${index * 8 + 8}`); // prettier-ignore
      else addFunctionBreakpoint('entry_update', `${kind === 'pv' ? 'mfn' : 'gfn'} == ${hex(frame)} && index == ${index}`); // prettier-ignore
    }),
    reg('pagewalk.breakOnCr3Value', (node: RegisterNode) => addFunctionBreakpoint('cr_write', `reg == 3 && value == ${node.hexValue}`)), // prettier-ignore
    reg('pagewalk.diffFromHere', (node: EventNode) => diff(node.step)),
    reg('pagewalk.travelToEvent', (node: EventNode) => travelToStep(t.sessions, node.step)),
    reg('pagewalk.openExample', async () => {
      // The workspace's own programs first, then the examples the extension ships (the walkthrough's).
      const found = vscode.workspace.workspaceFolders?.length
        ? await vscode.workspace.findFiles('**/*.guest', '**/node_modules/**', 200)
        : [];
      const shipped = (await vscode.workspace.fs.readDirectory(t.examplesUri))
        .filter(([name, type]) => type === vscode.FileType.File && name.endsWith('.guest'))
        .map(([name]) => vscode.Uri.joinPath(t.examplesUri, name));
      const picks = [
        ...found.map((uri) => ({
          label: vscode.workspace.asRelativePath(uri),
          description: 'workspace',
          uri,
        })),
        ...shipped.map((uri) => ({
          label: uri.path.split('/').pop() ?? uri.path,
          description: 'example',
          uri,
        })),
      ];
      const pick = await vscode.window.showQuickPick(picks, { title: 'Open a .guest program', matchOnDescription: true }); // prettier-ignore
      if (pick) await vscode.window.showTextDocument(pick.uri);
      return pick?.uri;
    }),
    reg('pagewalk.filterTraps', async () => {
      const picks = await vscode.window.showQuickPick(
        TRAP_EVENT_CLASSES.map((c) => ({ label: c, picked: t.traps.classes?.includes(c) ?? true })),
        { canPickMany: true, title: 'Event classes to show in Traps' },
      );
      if (picks)
        t.traps.setFilter(picks.length === TRAP_EVENT_CLASSES.length ? null : picks.map((p) => p.label));
    }),
  ];
}
