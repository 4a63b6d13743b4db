/**
 * Stepping runs compared with golden transcripts (test/adapter/golden/*.txt): every stop of a
 * stepIn walk to the end — the step, the stack and what the stop said — then the same walk
 * backwards with stepBack, which must visit the forward stops in reverse order. Set
 * UPDATE_GOLDEN=1 to rewrite a transcript after a reviewed change.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { launchStopped, nextStopOrEnd, startClient } from './adapterClient';

const GOLDEN = resolve(__dirname, 'golden');

let dc: DebugClient;
beforeEach(async () => {
  dc = await startClient();
});
afterEach(async () => {
  await dc.stop();
});

async function describeStop(ev: DebugProtocol.StoppedEvent): Promise<string> {
  const step = ((await dc.customRequest('pagewalk/domains', {})).body as { step: number }).step;
  const st = await dc.stackTraceRequest({ threadId: ev.body.threadId ?? 1 });
  const frames = st.body.stackFrames
    .map((f) => (f.source?.path ? `${f.name}:${f.line}` : f.name))
    .join(' < ');
  const said = ev.body.description ? ` — ${ev.body.description}` : '';
  return `${step} ${ev.body.reason}: ${frames}${said}`;
}

/** Sends `request` until the run ends or `done` says stop; the description of each stop. */
async function walk(request: () => Promise<unknown>, done: (line: string) => boolean): Promise<string[]> {
  const lines: string[] = [];
  for (let i = 0; i < 200; i++) {
    const next = nextStopOrEnd(dc);
    await request();
    const ev = await next;
    if (ev.event === 'terminated') break;
    const line = await describeStop(ev as DebugProtocol.StoppedEvent);
    lines.push(line);
    if (done(line)) break;
  }
  return lines;
}

/** A stop line without its reason and description: where the run is. */
function normalize(line: string): string {
  return line.replace(/ (entry|step):/, ':').replace(/ — .*$/, '');
}

function golden(name: string, actual: string): string {
  const path = resolve(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(path, actual);
  }
  if (!existsSync(path)) throw new Error(`no golden transcript ${name} (UPDATE_GOLDEN=1 writes it)`);
  return readFileSync(path, 'utf8');
}

describe.each(['basic.guest', 'pv.guest', 'hypercall.guest'])('%s', (file) => {
  it('steps in to the end as the transcript says, and back again in reverse', async () => {
    const entry = await launchStopped(dc, file);
    const first = await describeStop(entry);
    const forward = [
      first,
      ...(await walk(
        () => dc.stepInRequest({ threadId: 1 }),
        (l) => / finished\)/.test(l),
      )),
    ];
    const transcript = forward.join('\n') + '\n';
    expect(transcript).toBe(golden(file.replace(/\.guest$/, '.stepIn.txt'), transcript));
    // Backwards from where the run ended, with reverse step-in: thread 1 passes the same places in
    // reverse. (Positions may differ with two vCPUs: going back stops just before the thread's
    // statement, forward stops just after the one before it; a hypervisor stop shares its place
    // with the guest stop after it, since leaving a hypercall runs nothing.)
    const atEnd = await describeStop({ body: { reason: 'step', threadId: 1 } } as DebugProtocol.StoppedEvent);
    const back = await walk(
      () => dc.customRequest('pagewalk/reverseStepIn', { threadId: 1 }),
      (l) => l.startsWith('0 '),
    );
    const places = (lines: string[]) =>
      lines
        .filter((l) => !l.includes('[hypervisor]'))
        .map((l) => normalize(l).replace(/^\d+: /, ''))
        .filter((l, i, all) => i === 0 || all[i - 1] !== l);
    expect(places([atEnd, ...back])).toEqual(places(forward).reverse());
    expect(back[back.length - 1]).toMatch(/^0 /);
  });
});
