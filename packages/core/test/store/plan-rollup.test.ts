// deriveState: the one rule for the state of a dataset or a plan (status and run --local's summary).
import { describe, expect, it } from '@jest/globals';
import { deriveState } from '../../src/index.js';

describe('deriveState', () => {
  const c = (files: number, done: number, failed: number, running = 0, leased = false) => deriveState({ files, done, failed, running, leased });
  it('is done when every file is, failed only when nothing is left and some failed', () => {
    expect(c(3, 3, 0)).toBe('done');
    expect(c(0, 0, 0)).toBe('done');
    expect(c(3, 1, 2)).toBe('failed');
    expect(c(3, 0, 3)).toBe('failed');
  });
  it('while files are left: running when one is fetched or a lease covers them, else pending, failures or not', () => {
    expect(c(3, 1, 1)).toBe('pending');
    expect(c(3, 1, 1, 1)).toBe('running');
    expect(c(3, 1, 1, 0, true)).toBe('running');
    expect(c(3, 0, 0)).toBe('pending');
  });
});
