// The pure parts of parallel ranges: which segment a connection takes next, the contiguous
// prefix the hash may read, resume records, when one more connection is worth it, and the
// one-at-a-time write lane of a pass.
import { describe, expect, it } from '@jest/globals';
import { adapt, initialAdapt } from '../../src/download/adaptive-connections.js';
import { serialWrite, type Pass } from '../../src/download/ranged-state.js';
import { parseRecord } from '../../src/download/resume-record.js';
import { SegmentPlan } from '../../src/download/segment-plan.js';

describe('SegmentPlan', () => {
  it('cuts the blob into segments, hands each out once, and tracks the contiguous prefix', () => {
    const plan = new SegmentPlan(10, 4);
    expect(plan.segments.map((s) => [s.start, s.end])).toEqual([
      [0, 4],
      [4, 8],
      [8, 10],
    ]);
    const a = plan.claim()!;
    const b = plan.claim()!;
    expect([a.start, b.start]).toEqual([0, 4]);
    plan.landed(b, 4);
    expect(plan.contiguousEnd()).toBe(0);
    plan.landed(a, 3);
    expect(plan.contiguousEnd()).toBe(3);
    plan.landed(a, 1);
    expect(plan.contiguousEnd()).toBe(8);
    expect(plan.landedBytes()).toBe(8);
    expect(plan.complete()).toBe(false);
    const c = plan.claim()!;
    expect(plan.claim()).toBeUndefined();
    expect(plan.hasUnclaimed()).toBe(false);
    expect(() => plan.landed(c, 3)).toThrow(RangeError);
  });

  it('gives a failed segment back to be continued where it got, and keeps connections within the window ahead', () => {
    const plan = new SegmentPlan(12, 4);
    const a = plan.claim()!;
    plan.landed(a, 1);
    plan.release(a);
    expect(plan.hasUnclaimed()).toBe(true);
    const again = plan.claim(4)!;
    expect(again).toBe(a);
    expect(again.start + again.done).toBe(1);
    expect(plan.claim(4)).toBeUndefined(); // the next starts at 4: outside the window
    expect(plan.claim(5)!.start).toBe(4);
  });

  it('keeps the bounds and landed bytes of known segments and cuts the gaps anew', () => {
    const plan = new SegmentPlan(20, 4, [
      { start: 0, end: 6, done: 6 },
      { start: 10, end: 14, done: 2 },
    ]);
    expect(plan.segments.map((s) => [s.start, s.end, s.done])).toEqual([
      [0, 6, 6],
      [6, 10, 0],
      [10, 14, 2],
      [14, 18, 0],
      [18, 20, 0],
    ]);
    expect(plan.contiguousEnd()).toBe(6);
    expect(plan.landedBytes()).toBe(8);
    expect(plan.snapshot()[2]).toEqual({ start: 10, end: 14, done: 2 });
    expect(() => new SegmentPlan(20, 4, [{ start: 0, end: 30, done: 0 }])).toThrow(RangeError);
  });
});

describe('parseRecord', () => {
  it('reads a record of the same blob size and refuses anything that does not fit', () => {
    expect(parseRecord(JSON.stringify({ size: 20, segments: [[0, 6, 6], [10, 14, 2]] }) + '   ', 20)).toEqual([
      { start: 0, end: 6, done: 6 },
      { start: 10, end: 14, done: 2 },
    ]);
    expect(parseRecord(JSON.stringify({ size: 21, segments: [[0, 6, 6]] }), 20)).toEqual([]);
    expect(parseRecord(JSON.stringify({ size: 20, segments: [[0, 6, 7]] }), 20)).toEqual([]);
    expect(parseRecord(JSON.stringify({ size: 20, segments: [[4, 8, 1], [0, 4, 4]] }), 20)).toEqual([]);
    expect(parseRecord('{"size":20,"segm', 20)).toEqual([]);
  });
});

describe('adapt', () => {
  const policy = { cap: 8, minGain: 0.1 };
  it('doubles while each step pays, up to the cap', () => {
    let s = initialAdapt(8);
    s = adapt(s, 50, policy);
    expect(s.target).toBe(2);
    s = adapt(s, 100, policy);
    expect(s.target).toBe(4);
    s = adapt(s, 200, policy);
    expect(s.target).toBe(8);
    s = adapt(s, 400, policy);
    expect(s).toMatchObject({ target: 8, settled: true });
    expect(adapt(s, 1, policy)).toBe(s);
  });

  it('goes back to the count before a step that did not pay, and stays', () => {
    let s = adapt(initialAdapt(8), 1000, policy);
    expect(s.target).toBe(2);
    s = adapt(s, 1090, policy); // + 9 %
    expect(s).toMatchObject({ target: 1, settled: true });
    s = adapt(adapt(adapt(initialAdapt(8), 50, policy), 100, policy), 105, policy);
    expect(s).toMatchObject({ target: 2, settled: true });
  });

  it('one connection when the cap is 1', () => {
    expect(initialAdapt(1)).toMatchObject({ target: 1, settled: true });
  });
});

describe('serialWrite', () => {
  it('runs one write of a pass at a time, in order, and a failed write does not stall the next', async () => {
    const pass = { writeLane: Promise.resolve() } as unknown as Pass;
    const log: string[] = [];
    let active = 0;
    let most = 0;
    const write = (name: string, ms: number, fails = false) => async () => {
      active++;
      most = Math.max(most, active);
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
      active--;
      if (fails) throw new Error(`${name} failed`);
    };
    const results = await Promise.allSettled([serialWrite(pass, write('a', 20)), serialWrite(pass, write('b', 5, true)), serialWrite(pass, write('c', 1))]);
    expect(most).toBe(1);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});
