import { describe, expect, it } from '@jest/globals';
import { LeaseLostError } from '@hfhpc/core';
import { startHeartbeat } from '../src/heartbeat.js';

describe('startHeartbeat', () => {
  it('beats until the lease is lost, then reports it once and stops', async () => {
    let beats = 0;
    const lost: unknown[] = [];
    const errors: unknown[] = [];
    let onLost!: () => void;
    const lostOnce = new Promise<void>((r) => (onLost = r));
    startHeartbeat({
      intervalMs: 10,
      beat: async () => {
        beats++;
        if (beats === 2) throw new Error('database is busy');
        if (beats === 4) throw new LeaseLostError('gone');
      },
      onLost: (e) => {
        lost.push(e);
        onLost();
      },
      onError: (e) => errors.push(e),
    });
    await lostOnce;
    await new Promise((r) => setTimeout(r, 50)); // no beat after the loss
    expect(beats).toBe(4);
    expect(errors).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toBeInstanceOf(LeaseLostError);
  });

  it('stop() ends the beats', async () => {
    let beats = 0;
    const hb = startHeartbeat({ intervalMs: 10, beat: async () => void beats++, onLost: () => undefined });
    hb.stop();
    await new Promise((r) => setTimeout(r, 50));
    expect(beats).toBe(0);
  });

  it('does not start a beat while the previous one still waits for the database', async () => {
    let started = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const hb = startHeartbeat({
      intervalMs: 10,
      beat: async () => {
        started++;
        await held;
      },
      onLost: () => undefined,
    });
    await new Promise((r) => setTimeout(r, 80));
    expect(started).toBe(1);
    release();
    await new Promise((r) => setTimeout(r, 50));
    hb.stop();
    expect(started).toBeGreaterThan(1);
  });
});
