/**
 * Pagewalk inside a real VS Code: a debug session on an example stops at `cr-write` exception
 * breakpoints, and the Domains, Frames and Traps trees, the status of the explorer webview and the
 * language features are checked through the extension's API and VS Code's own commands.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { PagewalkApi } from '../../../extension/extension';
import type { TreeNode } from '../../../extension/views/nodes/treeNode';
import type { StopInfo } from '../../../extension/debug/pagewalkSessions';

const log = (...a: unknown[]) => console.log('[pagewalk-e2e]', ...a);
let api: PagewalkApi;
/** Every DAP event and error response seen, for the failure message of a missing stop. */
const traffic: string[] = [];

function workspacePath(rel: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'a workspace folder is open');
  return vscode.Uri.joinPath(folder.uri, rel);
}

function labelOf(item: vscode.TreeItem): string {
  return typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
}

async function children(node?: TreeNode, tree = api.domains as vscode.TreeDataProvider<TreeNode>) {
  const list = (await tree.getChildren(node)) ?? [];
  return list.map((n) => ({ node: n, item: n.getTreeItem() }));
}

async function child(
  node: TreeNode | undefined,
  label: string | RegExp,
  tree = api.domains as vscode.TreeDataProvider<TreeNode>,
) {
  const list = await children(node, tree);
  const found = list.find((c) =>
    typeof label === 'string' ? labelOf(c.item) === label : label.test(labelOf(c.item)),
  );
  assert.ok(found, `a child '${label}' under ${node?.id ?? 'root'}; got ${list.map((c) => labelOf(c.item)).join(', ')}`); // prettier-ignore
  return found;
}

function nextStop(pred: (s: StopInfo) => boolean = () => true, ms = 20_000): Promise<StopInfo> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (sub.dispose(), reject(new Error(`no stop within ${ms} ms; DAP traffic: ${traffic.slice(-30).join(' | ')}`))), ms); // prettier-ignore
    const sub = api.sessions.onDidChangeState((s) => {
      if (s && s.step !== null && pred(s)) {
        clearTimeout(timer);
        sub.dispose();
        resolve(s);
      }
    });
  });
}

async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A `.guest` file of the test's own in the workspace, opened in an editor. Files, not untitled
 * documents: an untitled one would open a Save As dialog when a debug session starts
 * (`debug.saveBeforeStart`), and the workbench was seen answering provider queries on a fresh
 * untitled document with nothing.
 */
async function openGuestFile(name: string, content: string): Promise<vscode.TextDocument> {
  const uri = workspacePath(name);
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(content));
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc);
  assert.equal(doc.languageId, 'guest', `${name} opens as a .guest document`);
  return doc;
}

async function closeFile(doc: vscode.TextDocument): Promise<void> {
  await vscode.window.showTextDocument(doc);
  await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
}

suite('Pagewalk extension', () => {
  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension('pagewalk.pagewalk');
    assert.ok(ext, 'the extension is installed');
    api = (await ext.activate()) as PagewalkApi;
    vscode.debug.registerDebugAdapterTrackerFactory('pagewalk', {
      createDebugAdapterTracker: () => ({
        onDidSendMessage: (m: {
          type: string;
          event?: string;
          command?: string;
          success?: boolean;
          message?: string;
        }) => {
          if (m.type === 'event' && m.event !== 'output') traffic.push(m.event ?? '');
          if (m.type === 'response' && !m.success) traffic.push(`${m.command} failed: ${m.message}`);
        },
        onError: (e: Error) => traffic.push(`error ${e.message}`),
        onExit: (code: number | undefined) => traffic.push(`exit ${code}`),
      }),
    });
    log(`VS Code ${vscode.version}, ${vscode.env.appName}, node ${process.version}`);
  });

  test('diagnostics as you type come from the engine parser, located', async () => {
    const doc = await openGuestFile('e2e-diagnostics.guest', 'domain vm hvm memory=16M paging=hap\nvcpu vm\n  let x = nosuchthing\nend\n'); // prettier-ignore
    const diags = await waitFor('diagnostics', () => {
      const d = vscode.languages.getDiagnostics(doc.uri);
      return d.length ? d : undefined;
    });
    assert.equal(diags[0].range.start.line, 2);
    assert.match(diags[0].message, /nosuchthing/);
    assert.equal(diags[0].source, 'pagewalk');
    await closeFile(doc);
  });

  test('hover decodes bits, completion and go-to-definition know the file', async () => {
    const doc = await openGuestFile('e2e-language.guest', 'const FLAGS = 0x8000000000000063\nproc setup(f)\n  return f\nend\ndomain vm hvm memory=16M paging=hap\nvcpu vm\n  mov cr0, cr0 | PG\n  call setup(1)\nend\n'); // prettier-ignore
    // The workbench learns of a document the extension host opened a moment later; until then a
    // provider query answers nothing, so each query is repeated until it answers.
    const hoverAt = (line: number, character: number) =>
      waitFor(`a hover at ${line}:${character}`, async () => {
        const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, new vscode.Position(line, character)); // prettier-ignore
        const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n'); // prettier-ignore
        return text || undefined;
      });
    const hoverText = await hoverAt(0, 18);
    assert.match(hoverText, /\| 63 \| NX \| 1 \|/);
    assert.match(hoverText, /\| 6 \| D \| 1 \|/);
    assert.match(await hoverAt(6, 18), /CR0[\s\S]*\| 31 \| PG \| 1 \|/);
    const completions = await waitFor('completions', async () => {
      const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', doc.uri, new vscode.Position(7, 2)); // prettier-ignore
      return list.items.length ? list : undefined;
    });
    const labels = completions.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    for (const want of ['vcpu', 'expect', 'PG', 'cr3', 'pte_addr', 'setup', 'FLAGS', 'vm']) assert.ok(labels.includes(want), `completion offers ${want}`); // prettier-ignore
    const defs = await waitFor('a definition', async () => {
      const list = await vscode.commands.executeCommand<vscode.Location[]>('vscode.executeDefinitionProvider', doc.uri, new vscode.Position(7, 8)); // prettier-ignore
      return list.length ? list : undefined;
    });
    assert.equal(defs[0]?.range.start.line, 1);
    await closeFile(doc);
  });

  test('a session stops at cr-write; the Domains tree shows registers and page tables', async () => {
    const program = workspacePath('examples/hap-paging-on.guest').fsPath;
    const entry = nextStop();
    assert.ok(await vscode.debug.startDebugging(vscode.workspace.workspaceFolders?.[0], { type: 'pagewalk', request: 'launch', name: 'e2e', program, stopOnEntry: true })); // prettier-ignore
    const s0 = await entry;
    assert.equal(s0.reason, 'entry');
    const root0 = await children();
    assert.deepEqual(
      root0.map((c) => labelOf(c.item)),
      ['vm'],
    );
    const vcpu0 = await child(root0[0].node, 'vcpu0');
    assert.match(String((await child(vcpu0.node, 'CR3')).item.description), /^0x0\b/);

    // Exception filters are the adapter's; set them as the Breakpoints view would, then continue.
    await s0.session.customRequest('setExceptionBreakpoints', { filters: ['cr-write'] });
    let stopped = nextStop((s) => s.reason === 'exception');
    await vscode.commands.executeCommand('workbench.action.debug.continue');
    const s1 = await stopped;
    const { domains } = await api.sessions.request('pagewalk/domains', {});
    const cr3 = domains[0].vcpus[0].cr3; // gpa(l4): the first frame alloc() hands out, possibly 0
    const v1 = await child((await children())[0].node, 'vcpu0');
    const cr3Node = await child(v1.node, 'CR3');
    assert.ok(
      String(cr3Node.item.description).startsWith(cr3),
      `CR3 shows ${cr3}: ${cr3Node.item.description}`,
    );
    const pfn = await child(cr3Node.node, /^PFN/);
    assert.equal(String(pfn.item.description).split(' ')[0], `0x${(BigInt(cr3) >> 12n).toString(16)}`);
    log(`stop 1 (${s1.reason}) at step ${s1.step}: CR3 ${cr3}`);

    stopped = nextStop((s) => s.reason === 'exception');
    await vscode.commands.executeCommand('workbench.action.debug.continue');
    const s2 = await stopped;
    const v2 = await child((await children())[0].node, 'vcpu0');
    const cr0 = await child(v2.node, 'CR0');
    assert.match(String(cr0.item.description), /PG/);
    assert.match(String(cr0.item.description), /\(changed\)/);
    const l4 = await child(v2.node, 'Page tables');
    const l4rows = await children(l4.node);
    assert.equal(labelOf(l4rows[0].item), '[0] PML4E');
    assert.match(String(l4rows[0].item.description), /P|RW/);
    assert.equal(labelOf(l4rows[1].item), '[1–511]', 'the empty rest is one merged row');
    const l3 = await child(l4rows[0].node, 'L3 table');
    const l2 = await child((await children(l3.node))[0].node, 'L2 table');
    const l2rows = await children(l2.node);
    assert.match(String(l2rows[0].item.description), /PS/, 'L2[0] is the 2 MiB identity page');
    const l2e2 = l2rows.find((c) => labelOf(c.item) === '[2] PDE');
    assert.ok(l2e2, 'L2[2] points to the L1 table');
    assert.match(String(l2e2.item.description), /VA 0x400000 \(2 MiB\)/);
    const tooltip = await l2e2.node.resolveTooltip();
    assert.match(tooltip?.value ?? '', /\| 0 \| P \| 1 \|/);
    log(`stop 2 (${s2.reason}) at step ${s2.step}: ${l4rows.length} L4 rows`);
  });

  test('palette commands answer at the stop: translate, show frame, audit', async () => {
    // hap-paging-on maps DATA_VA 0x400000 to `data`, the fifth frame alloc() hands out: gfn 4.
    const w = (await vscode.commands.executeCommand('pagewalk.translateAddress', '0x400000')) as {
      ok: boolean;
      gpa: string;
      ma: string;
      levels: unknown[];
    };
    assert.ok(w.ok, 'DATA_VA translates once paging is on');
    assert.equal(w.gpa, '0x4000');
    assert.equal(w.levels.length, 4);
    const frame = (await vscode.commands.executeCommand(
      'pagewalk.showFrame',
      Number(BigInt(w.ma) >> 12n),
    )) as {
      pfn: number | null;
      owner: number;
    };
    assert.equal(frame.pfn, 4, 'the machine frame of DATA_VA is gfn 4 of the domain');
    const audit = String(await vscode.commands.executeCommand('pagewalk.auditNow'));
    assert.match(audit, /frame-table audit: no violations/);
  });

  test('the Frames, Shadows and Traps views show the stopped machine', async () => {
    const frames = await children(undefined, api.frames);
    assert.ok(frames.length > 0);
    assert.ok(
      !frames.some((f) => f.item.contextValue === 'message' && /error/i.test(String(f.item.iconPath))),
    );
    const shadows = await children(undefined, api.shadows);
    assert.equal(labelOf(shadows[0].item), 'vm');
    const traps = await children(undefined, api.traps);
    const writes = traps.filter((t) => labelOf(t.item) === 'cr_write');
    assert.ok(writes.length >= 2, `two cr_write events; got ${traps.map((t) => labelOf(t.item)).join(', ')}`);
    const steps = traps.map((t) => Number(/step (\d+)/.exec(String(t.item.description))?.[1]));
    assert.deepEqual(
      steps,
      [...steps].sort((a, b) => b - a),
      'newest first',
    );
    assert.equal(writes[0].item.command?.command, 'vscode.open', 'a click opens the source line');
  });

  test('the page-table explorer webview receives the tables of the stopped vCPU', async () => {
    const posted = new Promise<void>((resolve) => {
      const sub = api.explorer.onDidPost((m) => m.type === 'tables' && (sub.dispose(), resolve()));
    });
    await vscode.commands.executeCommand('pagewalk.openExplorer');
    await waitFor(
      'the explorer tab',
      () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.label === 'Page Tables'), // prettier-ignore
    );
    await posted; // the page's script ran: it sent `ready`, and the host answered with the tables
    const tables = api.explorer.lastPosted.get('tables');
    assert.ok(tables && tables.type === 'tables');
    assert.equal(tables.domain, 'vm');
    assert.equal(tables.paging, 'hap');
    assert.ok(
      tables.tables[0].entries.some((e) => e.index === 0),
      'L4[0] is present',
    );
    // A walk in a HAP domain comes with its two-dimensional grid: each reference through the p2m.
    const walked = new Promise<void>((resolve) => {
      const sub = api.explorer.onDidPost((m) => m.type === 'walk' && (sub.dispose(), resolve()));
    });
    await api.explorer.open('0x400000');
    await walked;
    const walk = api.explorer.lastPosted.get('walk');
    assert.ok(walk && walk.type === 'walk' && walk.hap, 'the walk carries the HAP grid');
    assert.ok(walk.hap.rows.length >= 1 && walk.hap.rows.every((r) => r.gpa.startsWith('0x')));
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('the frame map and the timeline panels are fed by the stopped session', async () => {
    const posted = (panel: PagewalkApi['frameMap'] | PagewalkApi['timeline'], type: 'frames' | 'timeline') =>
      new Promise<void>((resolve) => {
        const sub = panel.onDidPost((m) => m.type === type && (sub.dispose(), resolve()));
      });
    // The frame map's page asks for the rows it shows: `frames` answers its request.
    const frames = posted(api.frameMap, 'frames');
    await vscode.commands.executeCommand('pagewalk.openFrameMap');
    await frames;
    const summary = api.frameMap.lastPosted.get('frameSummary');
    assert.ok(summary?.type === 'frameSummary');
    assert.ok(
      summary.totalFrames > 4096,
      `the machine has more frames than vm's 4096: ${summary.totalFrames}`,
    );
    assert.deepEqual(
      summary.domains.map((d) => d.name),
      ['vm'],
    );
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');

    const timeline = posted(api.timeline, 'timeline');
    await vscode.commands.executeCommand('pagewalk.openTimeline');
    await timeline;
    const t = api.timeline.lastPosted.get('timeline');
    assert.ok(t?.type === 'timeline');
    assert.equal(t.currentStep, 13);
    assert.deepEqual(
      t.events.filter((e) => e.class === 'cr_write').map((e) => e.step),
      [12, 13],
    );
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('context menus: break on an entry or a CR3 value, diff from an event, go back in time to it', async () => {
    const vcpu = await child((await children())[0].node, 'vcpu0');
    const cr3 = await child(vcpu.node, 'CR3');
    assert.equal(cr3.item.contextValue, 'register.cr3', 'CR3 has the "break on CR3 write" menu');
    const l4e = (await children((await child(vcpu.node, 'Page tables')).node))[0];
    assert.equal(l4e.item.contextValue, 'entry.table', 'an L4 entry has the entry menus');
    const before = vscode.debug.breakpoints.length;
    await vscode.commands.executeCommand('pagewalk.breakOnCr3Value', cr3.node);
    await vscode.commands.executeCommand('pagewalk.breakOnEntryChange', l4e.node);
    const added = vscode.debug.breakpoints.slice(before) as vscode.FunctionBreakpoint[];
    vscode.debug.removeBreakpoints(added);
    assert.deepEqual(
      added.map((b) => [b.functionName, b.condition]),
      [
        ['cr_write', 'reg == 3 && value == 0x0'],
        ['entry_update', 'gfn == 0x0 && index == 0'],
      ],
    );

    const writes = (await children(undefined, api.traps)).filter((t) => labelOf(t.item) === 'cr_write');
    const cr3Write = writes[writes.length - 1]; // newest first: the last is the oldest, mov cr3
    assert.match(String(cr3Write.item.description), /^step 12 /);
    await vscode.commands.executeCommand('pagewalk.diffFromHere', cr3Write.node);
    const diff = await waitFor('the diff document', () => {
      const doc = vscode.window.activeTextEditor?.document;
      return doc?.getText().startsWith('# Pagewalk diff') ? doc : undefined;
    });
    assert.match(diff.getText(), /step 12 → 13/);
    assert.match(diff.getText(), /cr0: 0x11 → 0x80000011/i, diff.getText());
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');

    const back = nextStop((s) => s.step === 12);
    assert.equal(await vscode.commands.executeCommand('pagewalk.travelToEvent', cr3Write.node), true);
    await back;
    assert.equal(api.sessions.stop?.step, 12);
    const cr0 = await child((await child((await children())[0].node, 'vcpu0')).node, 'CR0');
    assert.doesNotMatch(String(cr0.item.description), /PG/, 'back before mov cr0, paging is off again');
  });

  test('the session ends cleanly', async () => {
    const ended = new Promise<void>((resolve) => {
      const sub = vscode.debug.onDidTerminateDebugSession(() => (sub.dispose(), resolve()));
    });
    await vscode.debug.stopDebugging();
    await ended;
    assert.equal(api.sessions.stop, null);
  });

  test('on a shadow-paged guest, Shadows lists every guest table and Frames says who maps a frame', async () => {
    const uri = workspacePath('examples/shadow-pte-write.guest');
    const doc = await vscode.workspace.openTextDocument(uri);
    const line = doc
      .getText()
      .split('\n')
      .findIndex((l) => l.includes('@pte-write'));
    assert.ok(line > 0, 'the example marks its PTE write');
    const bp = new vscode.SourceBreakpoint(new vscode.Location(uri, new vscode.Position(line, 0)));
    vscode.debug.addBreakpoints([bp]);
    try {
      const hit = nextStop((s) => s.reason === 'breakpoint');
      assert.ok(await vscode.debug.startDebugging(undefined, { type: 'pagewalk', request: 'launch', name: 'shadow', program: uri.fsPath, stopOnEntry: false })); // prettier-ignore
      const stop = await hit;
      const [g] = await children(undefined, api.shadows);
      assert.equal(labelOf(g.item), 'g');
      assert.match(String(g.item.description), /^4 shadow pages/);
      // vcpu1 is never brought up: its paging stays off, so nothing of it is shadowed.
      const vcpus = await children(g.node, api.shadows);
      assert.deepEqual(
        vcpus.map((v) => labelOf(v.item)),
        ['vcpu0', 'vcpu1: paging is off (CR0.PG = 0), nothing to shadow'],
      );
      const tables = await children(vcpus[0].node, api.shadows);
      assert.deepEqual(
        tables.map((t) => labelOf(t.item)),
        ['L4 gfn 0x0', 'L3 gfn 0x1', 'L2 gfn 0x2', 'L1 gfn 0x3'],
      );
      const l1 = String(tables[3].item.description);
      assert.match(l1, /^shadowed · write-protected$/, `the L1 is shadowed and write-protected: ${l1}`);

      // The first data page is mapped at VA 0 by vcpu0: find its frame in the domain's whole range.
      const walk = await api.sessions.request(
        'pagewalk/walk',
        { threadId: stop.threadId, va: '0x0' },
        stop.session,
      );
      assert.ok(walk.ok && walk.ma, `VA 0 translates: ${walk.text}`);
      const mfn = Number(BigInt(walk.ma) >> 12n);
      const owner = await child(undefined, 'g (d1)', api.frames);
      let node = (await child(owner.node, 'all frames', api.frames)).node;
      for (let depth = 0; node instanceof Object && 'first' in node && depth < 5; depth++) {
        const next = (await children(node, api.frames)).find((c) => {
          const n = c.node as TreeNode & { first?: number; last?: number; frame?: { mfn: number } };
          return n.frame ? n.frame.mfn === mfn : n.first! <= mfn && mfn <= n.last!;
        });
        assert.ok(next, `mfn ${mfn} lies under ${node.id}`);
        node = next.node;
      }
      const data = node as TreeNode & { frame?: { pfn: number | null } };
      assert.equal(data.frame?.pfn, 4, 'the data page is gfn 4');
      const maps = (await children(data, api.frames)).map((c) => labelOf(c.item));
      assert.ok(
        maps.some((m) => /^g\.vcpu0: 0x0 /.test(m)),
        `who maps the data frame: ${maps.join(' | ')}`,
      );

      // The explorer shows each guest table beside its shadow.
      const posted = new Promise<void>((resolve) => {
        const sub = api.explorer.onDidPost((m) => m.type === 'tables' && m.domain === 'g' && (sub.dispose(), resolve())); // prettier-ignore
      });
      await vscode.commands.executeCommand('pagewalk.openExplorer');
      await posted;
      const tablesMessage = api.explorer.lastPosted.get('tables');
      assert.ok(tablesMessage?.type === 'tables' && tablesMessage.paging === 'shadow');
      const root = tablesMessage.tables[0];
      assert.equal(root.shadow?.type, 'l4', 'the guest L4 comes with its L4 shadow');
      assert.ok(root.shadow.entries.some((e) => e.index === 0 && e.value !== root.entries[0].value), 'shadow L4[0] points to the L3 shadow, not the guest L3'); // prettier-ignore
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');

      const ended = new Promise<void>((r) => {
        const sub = vscode.debug.onDidTerminateDebugSession(() => (sub.dispose(), r()));
      });
      await vscode.debug.stopDebugging();
      await ended;
    } finally {
      vscode.debug.removeBreakpoints([bp]);
    }
  });

  test('the adapter also runs as an executable (pagewalk.adapter.mode)', async () => {
    const config = vscode.workspace.getConfiguration('pagewalk');
    await config.update('adapter.mode', 'executable', vscode.ConfigurationTarget.Global);
    try {
      const program = workspacePath('examples/hap-stale-tlb.guest').fsPath;
      const entry = nextStop();
      assert.ok(await vscode.debug.startDebugging(undefined, { type: 'pagewalk', request: 'launch', name: 'exe', program, stopOnEntry: true })); // prettier-ignore
      await entry;
      const { domains } = await api.sessions.request('pagewalk/domains', {});
      assert.equal(domains[0].kind, 'hvm-hap');
      const ended = new Promise<void>((r) => {
        const sub = vscode.debug.onDidTerminateDebugSession(() => (sub.dispose(), r()));
      });
      await vscode.debug.stopDebugging();
      await ended;
    } finally {
      await config.update('adapter.mode', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});
