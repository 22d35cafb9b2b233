// The object `hfhpc status --json` prints (a contract for scripts, documented in docs/operations.md): field names
// are the contract; extra fields are additions, never renames.

/** State of a dataset, shard or file. */
export type UnitState = 'pending' | 'running' | 'done' | 'failed';

export interface StatusTotals {
  files: number;
  files_done: number;
  files_failed: number;
  bytes: number;
  /** Done files count whole; running and pending ones count the bytes already on disk. */
  bytes_done: number;
}

export interface DatasetStatus extends StatusTotals {
  repo: string;
  revision: string;
  /** The pinned commit sha. */
  commit: string;
  state: UnitState;
  files_running: number;
  /** Bytes per second over the rate window; null when nothing moved in it. */
  rate_bytes_per_s: number | null;
  /** Seconds left at that rate; null when unknown. */
  eta_s: number | null;
}

export interface ShardStatus {
  index: number;
  state: UnitState;
  bytes: number;
  bytes_done: number;
  files: number;
  files_done: number;
  /** Lease owner (`<array job>_<task>@host:pid`), null when no lease is held. */
  owner: string | null;
  /** ISO time the lease expires unless renewed; null without a lease. */
  lease_expires_at: string | null;
  /** True when the lease's expiry has passed: its task is probably dead (`hfhpc cleanup`). */
  lease_expired: boolean;
  attempts: number;
  last_error: string | null;
}

export interface FailureStatus {
  repo: string;
  path: string;
  error: string;
}

/** Failures sharing one cause (the error with ids, numbers and paths blanked out). */
export interface FailureGroup {
  cause: string;
  count: number;
  /** A few of the files, `repo: path`. */
  examples: string[];
}

/** One array task as Slurm sees it, next to the database's view of it. */
export interface SlurmTaskStatus {
  job_id: string;
  array_job_id: string | null;
  task_id: number | null;
  state: string;
  reason: string | null;
  exit_code: string | null;
  restarts: number | null;
  /** Shard indices whose lease this task holds. */
  shards: number[];
}

export interface SlurmStatus {
  /** False when squeue/sacct are not on PATH or failed; `error` says why. */
  available: boolean;
  error: string | null;
  job_ids: string[];
  tasks: SlurmTaskStatus[];
  /** Tasks Slurm runs that hold no lease (just started, between shards, or stuck). */
  running_without_lease: string[];
  /** Live leases whose task Slurm no longer runs: they will expire; then `hfhpc cleanup`. */
  leases_without_task: { shard: number; owner: string }[];
}

export interface ThrottleStatus {
  /** ISO time before which no task sends a request to the Hub. */
  not_before: string;
  reason: string | null;
}

export interface StatusReport {
  plan_id: number;
  /** Slurm job ids recorded for the plan's arrays (by `plan --submit`). */
  job_ids: string[];
  /** ISO time the figures were read. */
  generated_at: string;
  state: UnitState;
  totals: StatusTotals;
  /** Bytes per second over the rate window; null when nothing moved in it. */
  rate_bytes_per_s: number | null;
  rate_window_s: number;
  /**
   * `completions`: bytes of files verified inside the window (one look at the database);
   * `samples`: bytes_done deltas between refreshes of `status --watch` (includes partial files).
   */
  rate_source: 'completions' | 'samples';
  /** Seconds left at the current rate; null when unknown. */
  eta_s: number | null;
  datasets: DatasetStatus[];
  shard_counts: Record<UnitState, number>;
  shards: ShardStatus[];
  /** Failed files, by repo and path: at most 200 (totals.files_failed counts them all). */
  failures: FailureStatus[];
  /** True when the plan has more failed files than `failures` lists. */
  failures_truncated: boolean;
  /** `failures` grouped by cause. */
  failure_groups: FailureGroup[];
  throttle: ThrottleStatus | null;
  slurm: SlurmStatus | null;
}
