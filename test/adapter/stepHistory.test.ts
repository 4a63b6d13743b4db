import { describe, expect, it } from 'vitest';
import { StepHistory } from '../../debug-adapter/stepHistory';

describe('StepHistory', () => {
  it('keeps every record across growth, rewrites replayed ones, truncates, and refuses gaps', () => {
    const h = new StepHistory();
    const rec = (n: number) => ({
      thread: n % 3,
      depthBefore: n % 5,
      eventStart: 2 * n,
      eventEnd: 2 * n + (n % 2),
    });
    for (let n = 0; n < 5000; n++) h.set(n, rec(n));
    expect(h.length).toBe(5000);
    expect([0, 1023, 1024, 4999].map((n) => h.get(n))).toEqual([0, 1023, 1024, 4999].map(rec));
    expect(h.get(5000)).toBeUndefined();
    expect(h.get(-1)).toBeUndefined();
    h.set(10, rec(10)); // a replay writes the same record again
    expect(h.length).toBe(5000);
    h.truncate(100);
    expect(h.length).toBe(100);
    expect(h.get(100)).toBeUndefined();
    expect([h.thread(99), h.depthBefore(99)]).toEqual([0, 4]);
    expect(() => h.set(101, rec(101))).toThrow(/record 101 after 100/);
    h.set(100, { thread: 7, depthBefore: 1, eventStart: 0xffff_fff0, eventEnd: 0xffff_ffff });
    expect(h.get(100)).toEqual({ thread: 7, depthBefore: 1, eventStart: 0xffff_fff0, eventEnd: 0xffff_ffff });
  });
});
