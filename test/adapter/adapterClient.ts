/**
 * Test helpers: build the adapter once and drive the real `dist/debugAdapter.js` over stdio with
 * `DebugClient`, as VS Code would.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';

const ROOT = resolve(__dirname, '../..');
let built = false;

export function fixture(name: string): string {
  return resolve(__dirname, 'fixtures', name);
}

export async function startClient(): Promise<DebugClient> {
  if (!built) {
    execFileSync('node', ['scripts/build.mjs'], { cwd: ROOT, stdio: 'ignore' });
    built = true;
  }
  const dc = new DebugClient('node', resolve(ROOT, 'dist/debugAdapter.js'), 'pagewalk');
  dc.defaultTimeout = 10_000;
  await dc.start();
  await dc.initializeRequest();
  return dc;
}

/** Launches a fixture stopped on entry, after `configure` set breakpoints. */
export async function launchStopped(
  dc: DebugClient,
  file: string,
  configure: () => Promise<unknown> = async () => undefined,
): Promise<DebugProtocol.StoppedEvent> {
  const stopped = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
  await Promise.all([
    dc.waitForEvent('initialized').then(async () => {
      await configure();
      await dc.configurationDoneRequest();
    }),
    dc.launch({ program: fixture(file), stopOnEntry: true } as DebugProtocol.LaunchRequestArguments),
  ]);
  return stopped;
}

/** Sends a request whose response ends in the next `stopped` event, and returns that event. */
export async function untilStopped(
  dc: DebugClient,
  send: () => Promise<unknown>,
): Promise<DebugProtocol.StoppedEvent> {
  const stopped = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
  await send();
  return stopped;
}

/** The next `stopped` or `terminated` event, whichever comes first (a run may end instead of stopping). */
export function nextStopOrEnd(dc: DebugClient): Promise<DebugProtocol.Event> {
  return new Promise((resolve) => {
    const onStop = (e: DebugProtocol.Event): void => {
      dc.off('terminated', onEnd);
      resolve(e);
    };
    const onEnd = (e: DebugProtocol.Event): void => {
      dc.off('stopped', onStop);
      resolve(e);
    };
    dc.once('stopped', onStop);
    dc.once('terminated', onEnd);
  });
}

/** The top guest frame: the first whose source is the program (a hypervisor frame's is a text). */
export async function topFrame(dc: DebugClient, threadId = 1): Promise<DebugProtocol.StackFrame> {
  const st = await dc.stackTraceRequest({ threadId });
  const frame = st.body.stackFrames.find((f) => f.source?.path !== undefined);
  if (!frame) throw new Error('no frame with a source');
  return frame;
}

export async function evaluate(dc: DebugClient, expression: string, context = 'watch'): Promise<string> {
  const frame = await topFrame(dc);
  const r = await dc.evaluateRequest({ expression, frameId: frame.id, context });
  return r.body.result;
}
