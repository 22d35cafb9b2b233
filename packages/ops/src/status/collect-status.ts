import type { Store } from '@hfhpc/core';
import { readStatus } from './read-status.js';
import { ownerTaskKey, reconcileSlurm, type SchedulerJobState } from './reconcile-slurm.js';
import type { StatusReport } from './status-types.js';

/** The part of the planner's `Scheduler` that status needs. */
export interface JobStateSource {
  /** Whether the scheduler's commands (squeue/sacct) can be run here. */
  available(): Promise<boolean>;
  /** One batched query for all these jobs (array job ids cover all their tasks). */
  jobStates(jobIds: string[]): Promise<SchedulerJobState[]>;
}

export interface CollectStatusParams {
  store: Store;
  /** Default: the newest plan. */
  planId?: number;
  /** Default 300000 (5 minutes). */
  rateWindowMs?: number;
  /** Slurm's view; without it (or without job ids) `slurm` is null. */
  scheduler?: JobStateSource;
}

/** The database's figures, then Slurm's view of the plan's jobs next to its leases. */
export async function collectStatus(params: CollectStatusParams): Promise<StatusReport> {
  const report = readStatus({ store: params.store, planId: params.planId, rateWindowMs: params.rateWindowMs });
  const { scheduler } = params;
  // Jobs from resubmissions may be missing from plans.job_ids; their leases name them.
  const fromLeases = report.shards.flatMap((s) => {
    const key = s.owner ? ownerTaskKey(s.owner) : null;
    return key ? [key.split('_')[0]] : [];
  });
  const jobIds = [...new Set([...report.job_ids, ...fromLeases])];
  if (!scheduler || jobIds.length === 0) return report;
  const unavailable = (error: string): StatusReport => ({
    ...report,
    slurm: { available: false, error, job_ids: jobIds, tasks: [], running_without_lease: [], leases_without_task: [] },
  });
  try {
    if (!(await scheduler.available())) return unavailable('squeue/sacct not on PATH');
    const jobs = await scheduler.jobStates(jobIds);
    return { ...report, slurm: reconcileSlurm({ jobIds, jobs, shards: report.shards }) };
  } catch (err) {
    return unavailable((err as Error).message.split('\n', 1)[0] ?? 'scheduler query failed');
  }
}
