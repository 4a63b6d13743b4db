/**
 * "Go back in time to here": the adapter can step backwards one statement at a time
 * (`pagewalk/reverseStepIn`), so travelling to an event's step repeats that until the stop's step is
 * at or before the target. Each reverse request answers at once and stops later, so every round
 * waits for the next state change.
 */
import * as vscode from 'vscode';
import type { PagewalkSessions, StopInfo } from './pagewalkSessions';

const MAX_ROUNDS = 10_000;

function nextStop(sessions: PagewalkSessions, timeoutMs = 5000): Promise<StopInfo | null> {
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

/** Steps back until the engine is at `step` (the position right after that step ran) or earlier. */
export async function travelToStep(
  sessions: PagewalkSessions,
  step: number,
  threadId?: number,
): Promise<boolean> {
  let stop = sessions.stop;
  if (!stop || stop.step === null) {
    void vscode.window.showWarningMessage('Pagewalk: pause the program before travelling back in time.');
    return false;
  }
  for (let round = 0; round < MAX_ROUNDS && stop.step !== null && stop.step > step; round++) {
    const waiting = nextStop(sessions);
    await sessions.request('pagewalk/reverseStepIn', { threadId: threadId ?? stop.threadId }, stop.session);
    const next = await waiting;
    if (!next || next.step === stop.step) break;
    stop = next;
  }
  return stop.step !== null && stop.step <= step;
}
