import { describe, expect, it } from '@jest/globals';
import { UsageError } from '@hfhpc/core';
import { resolveTaskId } from '../src/resolve-task-id.js';
import { resolveConcurrency } from '../src/resolve-concurrency.js';

describe('resolveTaskId', () => {
  it('prefers --task-id over the Slurm array index', () => {
    expect(resolveTaskId({ taskId: 7, env: { SLURM_ARRAY_TASK_ID: '3' } })).toBe(7);
  });
  it('adds the array offset from --task-offset or $HFHPC_TASK_OFFSET', () => {
    expect(resolveTaskId({ env: { SLURM_ARRAY_TASK_ID: '3' } })).toBe(3);
    expect(resolveTaskId({ env: { SLURM_ARRAY_TASK_ID: '3', HFHPC_TASK_OFFSET: '1000' } })).toBe(1003);
    expect(resolveTaskId({ taskOffset: 2000, env: { SLURM_ARRAY_TASK_ID: '3', HFHPC_TASK_OFFSET: '1000' } })).toBe(2003);
  });
  it('refuses a missing or malformed id with a usage error', () => {
    expect(() => resolveTaskId({ env: {} })).toThrow(UsageError);
    expect(() => resolveTaskId({ env: { SLURM_ARRAY_TASK_ID: '3a' } })).toThrow(/non-negative integer/);
    expect(() => resolveTaskId({ taskId: -1, env: {} })).toThrow(UsageError);
  });
});

describe('resolveConcurrency', () => {
  it('uses --concurrency, else the CPUs Slurm granted, else the machine', () => {
    expect(resolveConcurrency({ concurrency: 3, env: { SLURM_CPUS_PER_TASK: '8' } })).toBe(3);
    expect(resolveConcurrency({ env: { SLURM_CPUS_PER_TASK: '8' }, availableParallelism: () => 64 })).toBe(8);
    expect(resolveConcurrency({ env: {}, availableParallelism: () => 5 })).toBe(5);
    expect(() => resolveConcurrency({ concurrency: 0 })).toThrow(UsageError);
  });
});
