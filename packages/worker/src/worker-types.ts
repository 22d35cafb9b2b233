import type { Logger, WorkState } from '@hfhpc/core';
import type { DownloadFn } from './download-fn.js';
import type { ShardFailure } from './shard/types.js';
import type { SignalWatch } from './signals.js';

export interface RunWorkerParams {
  /** The state database (`--db`). */
  dbPath: string;
  /** Cache root (`--root`). Default: the plan's root. */
  root?: string;
  /** Hub base URL (`--hub-url`). Default: the plan's hub URL. */
  hubUrl?: string;
  /** `--plan-id`. Default: the latest plan. */
  planId?: number;
  /** `--task-id`; default `$SLURM_ARRAY_TASK_ID` + offset. */
  taskId?: number;
  /** `--task-offset`; default `$HFHPC_TASK_OFFSET`, else 0. */
  taskOffset?: number;
  /** `--concurrency`; default the task's CPUs. */
  concurrency?: number;
  /** `--connections-per-file`: most ranged connections one large file uses at once (1: one connection). Default 8. */
  connectionsPerFile?: number;
  /** `--lease-ttl` in seconds. Default 120; heartbeats every quarter of it. */
  leaseTtlSeconds?: number;
  /** `--no-steal` sets false: stop after the own shard. Default true. */
  steal?: boolean;
  /** `--progress-interval` in seconds. Default 30. */
  progressIntervalSeconds?: number;
  /** How often progress is written to the database. Default 5,000 ms. */
  progressFlushMs?: number;
  /** The download engine. Default `downloadBlob` (./download). */
  download?: DownloadFn;
  /** Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Default: a text logger on stderr. Plan id, task id and host are added. */
  logger?: Logger;
  /** Default: `findToken({ env })`. Pass null for no token. */
  token?: string | null;
  /** Stop signals. Default `watchSignals()` (SIGTERM, SIGINT, SIGUSR1). */
  signals?: SignalWatch;
  /** Default `os.hostname()`. */
  host?: string;
  /** Default `process.pid`. */
  pid?: number;
  /** Clock for the store and the lease checks. Default Date.now. */
  now?: () => number;
}

export interface ShardOutcome {
  index: number;
  /** `lost`: the lease was taken over; the new holder finishes the shard. */
  state: Exclude<WorkState, 'running'> | 'lost';
}

export interface WorkerResult {
  planId: number;
  taskId: number;
  shards: ShardOutcome[];
  filesDone: number;
  failures: ShardFailure[];
}
