import { describe, expect, it } from '@jest/globals';
import { createThrottleGate } from '../src/throttle-gate.js';

function clockedGate(initial: number | null, cacheMs = 1000) {
  let t = 1_000_000;
  let row = initial === null ? null : { notBefore: initial };
  const reads: number[] = [];
  const writes: [number, string][] = [];
  const sleeps: number[] = [];
  const gate = createThrottleGate({
    table: {
      get: async () => (reads.push(t), row),
      set: async (nb, reason) => {
        writes.push([nb, reason]);
        row = { notBefore: Math.max(row?.notBefore ?? 0, nb) };
      },
    },
    cacheMs,
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
  });
  return { gate, reads, writes, sleeps, advance: (ms: number) => (t += ms), setRow: (nb: number) => (row = { notBefore: nb }), now: () => t };
}

describe('createThrottleGate', () => {
  it('passes at once without a pause and reads the table at most once per cache period', async () => {
    const g = clockedGate(null);
    for (let i = 0; i < 50; i++) await g.gate.wait();
    expect(g.sleeps).toEqual([]);
    expect(g.reads.length).toBe(1);
    g.advance(1000);
    await g.gate.wait();
    expect(g.reads.length).toBe(2);
  });

  it('waits until a pause set by another task, then reads again in case it was extended', async () => {
    const g = clockedGate(null);
    await g.gate.wait();
    g.setRow(g.now() + 5000); // another task got a 429
    g.advance(1000);
    await g.gate.wait();
    expect(g.sleeps).toEqual([4000]);
    expect(g.reads.length).toBe(3);
  });

  it('a local 429 pauses at once and is shared through the table; a shorter pause is ignored', async () => {
    const g = clockedGate(null);
    const until = g.now() + 3000;
    g.gate.pause(until, '429 from hub');
    g.gate.pause(until - 1000, 'older');
    expect(g.writes).toEqual([[until, '429 from hub']]);
    await g.gate.wait();
    expect(g.sleeps).toEqual([3000]);
  });

  it('rejects when aborted', async () => {
    const g = clockedGate(null);
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(g.gate.wait(ac.signal)).rejects.toThrow('stop');
  });
});
