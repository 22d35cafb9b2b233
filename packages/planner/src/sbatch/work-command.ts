// The command lines the batch scripts run: absolute paths to the same Node and the same hfhpc
// that rendered them, so a task never depends on the PATH or modules of the compute node.
// The worker runs with a bounded V8 heap: its live objects are what is in flight (a few tens
// of MiB), but with Node's defaults V8 lets per-request garbage pile up to several times that
// before a full collection (docs/operations.md, "Worker memory").
import { assertHubUrl } from '@hfhpc/core';
import { checkAbsolute, checkInt } from './check-values.js';

export interface WorkCommandParams {
  /** Absolute path of the Node binary (the CLI passes `process.execPath`). */
  nodePath: string;
  /** Absolute path of hfhpc's `packages/cli/dist/bin.js`. */
  hfhpcBin: string;
  planId: number;
  /** Shard index of array task 0 (see `splitArrays`). Default 0. */
  taskOffset?: number;
  /** Absolute path of the state database. */
  db: string;
  /** Absolute download root. */
  root: string;
  hubUrl: string;
  /** Files downloaded at once per task; omitted: the worker's default. */
  concurrency?: number;
  /** Lease time-to-live in seconds; omitted: the worker's default. */
  leaseTtlSeconds?: number;
  /** Seconds between Progress: lines; omitted: the worker's default. */
  progressIntervalSeconds?: number;
  /** The worker's V8 old-generation cap in MiB. Default `DEFAULT_WORKER_HEAP_MIB`. */
  heapMib?: number;
}

/** The worker's V8 old-generation cap (MiB) unless the plan says otherwise (`plan --worker-heap`). */
const DEFAULT_WORKER_HEAP_MIB = 48;
/** Each of the young generation's two semi-spaces (MiB): Node's default of 16 holds 32 MiB of short-lived garbage. */
const WORKER_SEMI_SPACE_MIB = 2;

/** Node's options for a worker process: its heap caps. */
function workerNodeOptions(heapMib = DEFAULT_WORKER_HEAP_MIB): string[] {
  return [`--max-old-space-size=${checkInt('heapMib', heapMib, 32)}`, `--max-semi-space-size=${WORKER_SEMI_SPACE_MIB}`];
}

/** argv of `hfhpc work` for one array (no token: the worker finds it at run time). */
export function workCommand(params: WorkCommandParams): string[] {
  const argv = [
    checkAbsolute('nodePath', params.nodePath),
    ...workerNodeOptions(params.heapMib),
    checkAbsolute('hfhpcBin', params.hfhpcBin),
    'work',
    '--plan-id', String(checkInt('planId', params.planId, 1)),
    '--task-offset', String(checkInt('taskOffset', params.taskOffset ?? 0, 0)),
    '--db', checkAbsolute('db', params.db),
    '--root', checkAbsolute('root', params.root),
    '--hub-url', assertHubUrl(params.hubUrl),
  ];
  if (params.concurrency !== undefined) argv.push('--concurrency', String(checkInt('concurrency', params.concurrency, 1)));
  if (params.leaseTtlSeconds !== undefined) argv.push('--lease-ttl', String(checkInt('leaseTtlSeconds', params.leaseTtlSeconds, 1)));
  if (params.progressIntervalSeconds !== undefined) argv.push('--progress-interval', String(checkInt('progressIntervalSeconds', params.progressIntervalSeconds, 1)));
  return argv;
}

export interface VerifyCommandParams {
  nodePath: string;
  hfhpcBin: string;
  db: string;
  root: string;
  /** Re-hash files already verified too. Default false. */
  force?: boolean;
}

/** argv of `hfhpc verify` for the job that follows the download array. */
export function verifyCommand(params: VerifyCommandParams): string[] {
  const argv = [
    checkAbsolute('nodePath', params.nodePath),
    checkAbsolute('hfhpcBin', params.hfhpcBin),
    'verify',
    '--db', checkAbsolute('db', params.db),
    '--root', checkAbsolute('root', params.root),
  ];
  if (params.force) argv.push('--force');
  return argv;
}
