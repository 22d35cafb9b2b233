import os from 'node:os';
import { UsageError } from '@hfhpc/core';
import { resolveConcurrency } from './resolve-concurrency.js';
import { resolveTaskId } from './resolve-task-id.js';
import type { RunWorkerParams } from './worker-types.js';

/** The task's settings once defaults are filled in and checked (bad input: UsageError, exit 2). */
export interface WorkerOptions {
  env: NodeJS.ProcessEnv;
  now: () => number;
  host: string;
  pid: number;
  taskId: number;
  concurrency: number;
  ttlMs: number;
  intervalMs: number;
  steal: boolean;
}

function positive(value: number, flag: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`Expected ${flag} to be a positive number of seconds, got \`${String(value)}\` (${typeof value})`, { hint: `pass ${flag} once, e.g. ${flag} 60` });
  }
  return value;
}

export function resolveWorkerOptions(params: RunWorkerParams): WorkerOptions {
  const env = params.env ?? process.env;
  return {
    env,
    now: params.now ?? Date.now,
    host: params.host ?? os.hostname(),
    pid: params.pid ?? process.pid,
    taskId: resolveTaskId({ taskId: params.taskId, taskOffset: params.taskOffset, env }),
    concurrency: resolveConcurrency({ concurrency: params.concurrency, env }),
    ttlMs: Math.round(positive(params.leaseTtlSeconds ?? 120, '--lease-ttl') * 1000),
    intervalMs: positive(params.progressIntervalSeconds ?? 30, '--progress-interval') * 1000,
    steal: params.steal ?? true,
  };
}
