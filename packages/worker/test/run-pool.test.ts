import { describe, expect, it } from '@jest/globals';
import { runPool } from '../src/run-pool.js';

describe('runPool', () => {
  it('never runs more than `concurrency` items at once and runs each once', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await runPool({
      items: Array.from({ length: 20 }, (_, i) => i),
      concurrency: 3,
      work: async (i) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setImmediate(r));
        done.push(i);
        running--;
      },
    });
    expect(peak).toBe(3);
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('starts nothing new after the signal aborts, but waits for what runs', async () => {
    const ac = new AbortController();
    const started: number[] = [];
    let finished = 0;
    await runPool({
      items: [0, 1, 2, 3, 4, 5],
      concurrency: 2,
      signal: ac.signal,
      work: async (i) => {
        started.push(i);
        if (i === 1) ac.abort();
        await new Promise((r) => setImmediate(r));
        finished++;
      },
    });
    expect(started).toEqual([0, 1]);
    expect(finished).toBe(2);
  });

  it('rethrows the first escaped error after the runners stop', async () => {
    await expect(runPool({ items: [1, 2], concurrency: 1, work: async (i) => { if (i === 1) throw new Error('boom'); } })).rejects.toThrow('boom');
  });
});
