/**
 * "Go back in time to here": one `pagewalk/reverseToStep` request puts the engine at the position
 * right after the event's step ran (checkpoint + replay in the adapter), however far back it is.
 * The request answers at once and the session stops afterwards, so this waits for that state change.
 */
import * as vscode from 'vscode';
import type { PagewalkSessions, StopInfo } from './pagewalkSessions';

function nextStop(sessions: PagewalkSessions, timeoutMs: number): Promise<StopInfo | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      sub.dispose();
      resolve(null);
    }, timeoutMs);
    const sub = sessions.onDidChangeState((stop) => {
      if (!stop || stop.step === null) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(stop);
    });
  });
}

/** Travels back to position `step` (the state right after that step ran); true when it got there. */
export async function travelToStep(
  sessions: PagewalkSessions,
  step: number,
  threadId?: number,
): Promise<boolean> {
  const stop = sessions.stop;
  if (!stop || stop.step === null) {
    void vscode.window.showWarningMessage('Pagewalk: pause the program before travelling back in time.');
    return false;
  }
  if (stop.step <= step) return stop.step === step;
  const waiting = nextStop(sessions, 30_000);
  await sessions.request(
    'pagewalk/reverseToStep',
    { threadId: threadId ?? stop.threadId, step },
    stop.session,
  );
  const next = await waiting;
  return next !== null && next.step === step;
}
