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
      beat: () => {
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
    const hb = startHeartbeat({ intervalMs: 10, beat: () => void beats++, onLost: () => undefined });
    hb.stop();
    await new Promise((r) => setTimeout(r, 50));
    expect(beats).toBe(0);
  });
});
