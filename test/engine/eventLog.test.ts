// The event log keeps per-entry events packed until read; every way of reading must see one log,
// in order, with each event built once — and truncation (checkpoint restore) must cut both kinds.
import { describe, expect, it } from 'vitest';
import { EventLog, registerPackedDecoder } from '../../engine/events/eventLog';
import type { EngineEvent } from '../../engine/events/eventTypes';

let built = 0;
const DECODER = registerPackedDecoder((c, f, at) => {
  built++;
  return {
    step: c.step,
    domain: c.domain,
    vcpu: c.vcpu,
    line: c.line,
    class: 'pin',
    mfn: f[at],
    type: 'L1',
  } as EngineEvent;
});

/** Logs packed events naming `mfns`, staged then appended as the PV model does. */
function appendPacked(log: EventLog, ...mfns: number[]): void {
  const first = log.stagePacked(DECODER, mfns[0], 0, 0, 0, 0, 0, 0, 0);
  for (const m of mfns.slice(1)) log.stagePacked(DECODER, m, 0, 0, 0, 0, 0, 0, 0);
  log.appendStaged(first, mfns.length);
}

function mfnsOf(events: readonly EngineEvent[]): number[] {
  return events.map((e) => ('mfn' in e ? (e.mfn as number) : -1));
}

function sampleLog(): EventLog {
  const log = new EventLog();
  log.setContext({ step: 1, domain: 'd', vcpu: 0, line: 3 });
  log.append({ class: 'unpin', mfn: 100 } as never);
  appendPacked(log, 1, 2, 3);
  log.setContext({ step: 2, domain: 'd', vcpu: 0, line: 4 });
  log.append({ class: 'unpin', mfn: 200 } as never);
  appendPacked(log, 4, 5);
  return log;
}

describe('EventLog with packed events', () => {
  it('reads one log in order, each packed event built once with the envelope of its step', () => {
    const log = sampleLog();
    built = 0;
    expect(log.length).toBe(7);
    expect(mfnsOf(log.slice(0))).toEqual([100, 1, 2, 3, 200, 4, 5]);
    expect(built).toBe(5);
    expect(log.at(5)).toBe(log.slice(-2)[0]);
    expect(log.all()[2]).toBe(log.at(2));
    expect(built).toBe(5);
    expect([log.at(1).step, log.at(1).line, log.at(6).step, log.at(6).line]).toEqual([1, 3, 2, 4]);
    expect(log.at(7)).toBeUndefined();
  });

  it('truncates built and packed events alike, and appends after a truncation in order', () => {
    const log = sampleLog();
    const all = log.all();
    log.truncate(3);
    expect(mfnsOf(log.all())).toEqual([100, 1, 2]);
    expect(log.all()).toBe(all);
    log.append({ class: 'unpin', mfn: 300 } as never);
    appendPacked(log, 6);
    expect(mfnsOf(log.slice(0))).toEqual([100, 1, 2, 300, 6]);
    log.truncate(0);
    expect(log.length).toBe(0);
    appendPacked(log, 7);
    expect(mfnsOf(log.all())).toEqual([7]);
  });

  it('hands listeners packed events at once, as objects', () => {
    const log = new EventLog();
    const seen: number[] = [];
    log.subscribe((e) => seen.push((e as { mfn: number }).mfn));
    appendPacked(log, 1, 2);
    log.append({ class: 'unpin', mfn: 3 } as never);
    expect(seen).toEqual([1, 2, 3]);
  });

  it('refuses to log staged rows out of order', () => {
    const log = new EventLog();
    const a = log.stagePacked(DECODER, 1, 0, 0, 0, 0, 0, 0, 0);
    log.stagePacked(DECODER, 2, 0, 0, 0, 0, 0, 0, 0);
    expect(() => log.appendStaged(a + 1, 1)).toThrow(/not the next staged rows/);
    log.appendStaged(a, 2);
    expect(mfnsOf(log.all())).toEqual([1, 2]);
  });

  it('grows past its first capacity without losing rows', () => {
    const log = new EventLog();
    const many = Array.from({ length: 5000 }, (_, i) => i);
    appendPacked(log, ...many);
    expect(log.length).toBe(5000);
    expect(mfnsOf([log.at(0), log.at(4999)])).toEqual([0, 4999]);
  });
});
