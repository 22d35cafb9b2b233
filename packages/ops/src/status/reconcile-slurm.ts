import type { ShardStatus, SlurmStatus, SlurmTaskStatus } from './status-types.js';

/** One job or array task as the scheduler reports it (the planner's `Scheduler.jobStates`). */
export interface SchedulerJobState {
  jobId: string;
  arrayJobId?: string | null;
  taskId?: number | null;
  state: string;
  reason?: string | null;
  exitCode?: string | number | null;
  restarts?: number | null;
}

// Slurm's long and short names for a task that still runs code on a node.
const ALIVE = new Set(['RUNNING', 'R', 'COMPLETING', 'CG', 'SUSPENDED', 'S', 'STOPPED', 'ST']);
const RUNNING = new Set(['RUNNING', 'R']);

/** `<array job>_<task>` of a lease owner `<array job>_<task>@host:pid`; null for local owners. */
export function ownerTaskKey(owner: string): string | null {
  const at = owner.lastIndexOf('@');
  const key = at < 0 ? owner : owner.slice(0, at);
  return /^\d+(?:_\d+)?$/.test(key) ? key : null;
}

function taskKey(t: SchedulerJobState): string {
  return t.arrayJobId && t.taskId != null ? `${t.arrayJobId}_${t.taskId}` : t.jobId;
}

/**
 * Put Slurm's view next to the database's: which tasks run without holding a lease, and
 * which live leases belong to tasks Slurm no longer runs (died without releasing).
 */
export function reconcileSlurm(params: { jobIds: readonly string[]; jobs: readonly SchedulerJobState[]; shards: readonly ShardStatus[] }): SlurmStatus {
  const { jobIds, jobs, shards } = params;
  const leasesByTask = new Map<string, number[]>();
  for (const s of shards) {
    const key = s.owner ? ownerTaskKey(s.owner) : null;
    if (!key) continue;
    leasesByTask.set(key, [...(leasesByTask.get(key) ?? []), s.index]);
  }
  const tasks: SlurmTaskStatus[] = jobs.map((j) => ({
    job_id: j.jobId,
    array_job_id: j.arrayJobId ?? null,
    task_id: j.taskId ?? null,
    state: j.state,
    reason: j.reason ?? null,
    exit_code: j.exitCode == null ? null : String(j.exitCode),
    restarts: j.restarts ?? null,
    shards: leasesByTask.get(taskKey(j)) ?? [],
  }));
  const alive = new Set(jobs.filter((j) => ALIVE.has(j.state.toUpperCase())).map(taskKey));
  const running_without_lease = jobs
    .filter((j) => RUNNING.has(j.state.toUpperCase()) && !leasesByTask.has(taskKey(j)))
    .map(taskKey);
  const leases_without_task = shards
    .filter((s) => s.owner && !s.lease_expired)
    .flatMap((s) => {
      const key = ownerTaskKey(s.owner as string);
      return key && !alive.has(key) ? [{ shard: s.index, owner: s.owner as string }] : [];
    });
  return { available: true, error: null, job_ids: [...jobIds], tasks, running_without_lease, leases_without_task };
}
