import { EventEmitter } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import { InterruptedError } from '@hfhpc/core';
import { watchSignals } from '../src/signals.js';

function fakeProcess(): EventEmitter & Pick<NodeJS.Process, 'on' | 'off'> {
  return new EventEmitter() as EventEmitter & Pick<NodeJS.Process, 'on' | 'off'>;
}

describe('watchSignals', () => {
  it('aborts with an InterruptedError on the first stop signal and keeps handling later ones', () => {
    const proc = fakeProcess();
    const seen: string[] = [];
    const w = watchSignals({ proc, onSignal: (s) => seen.push(s) });
    expect(w.signal.aborted).toBe(false);
    proc.emit('SIGUSR1');
    proc.emit('SIGTERM');
    expect(w.signal.aborted).toBe(true);
    expect(w.signal.reason).toBeInstanceOf(InterruptedError);
    expect(w.received()).toBe('SIGUSR1');
    expect(seen).toEqual(['SIGUSR1']);
    // Still installed: a second signal must not fall through to the default (kill).
    expect(proc.listenerCount('SIGTERM')).toBe(1);
    w.dispose();
    expect(proc.listenerCount('SIGTERM')).toBe(0);
  });

  it('calls the deadline when the task outlives its grace period', async () => {
    const proc = fakeProcess();
    let fired = false;
    const w = watchSignals({ proc, deadlineMs: 20, onDeadline: () => (fired = true) });
    proc.emit('SIGINT');
    await new Promise((r) => setTimeout(r, 60));
    expect(fired).toBe(true);
    w.dispose();
  });
});
