import {
  assertHubUrl,
  createLogger,
  findToken,
  resolvePlan,
  leaseOwner,
  planSymlinkAllowance,
  type Logger,
  type PlanRow,
  type Store,
  type SymlinkableDir,
} from '@hfhpc/core';
import { assertWritableRoot } from './disk-error.js';
import type { ProgressMeter } from './progress-meter.js';
import type { RequestGate } from './throttle-gate.js';
import { createWorkerGate } from './worker-gate.js';
import type { WorkerOptions } from './worker-options.js';
import type { RunWorkerParams } from './worker-types.js';

/** What the task works with once its plan is found and its root checked. */
export interface WorkerTask {
  plan: PlanRow;
  root: string;
  hubUrl: string;
  /** `plan --force`: blobs already in place are hashed again rather than trusted. */
  recheckBlobs: boolean;
  /** The manifest's allow_symlinked_dirs, carried by the plan. */
  allowSymlinkedDirs: SymlinkableDir[];
  log: Logger;
  token?: string;
  owner: string;
  gate: RequestGate;
}

/** The first `Progress:` line comes this soon after the start (or after one interval, if shorter). */
const FIRST_PROGRESS_MS = 5000;

async function loadPlan(store: Store, params: RunWorkerParams): Promise<PlanRow> {
  const noPlanHint = 'run hfhpc plan first, or pass the --db of the plan';
  return store.readAsync(() => resolvePlan(store, params.planId, { none: noPlanHint, missing: noPlanHint }));
}

/** Find the plan, check the root is writable, set up the logger, token, lease owner and request gate (429 pause + shared budget). */
export async function startTask(store: Store, params: RunWorkerParams, opts: WorkerOptions): Promise<WorkerTask> {
  const { env, now, taskId, host, pid } = opts;
  const plan = await loadPlan(store, params);
  const root = params.root ?? plan.root;
  const hubUrl = assertHubUrl(params.hubUrl ?? plan.hubUrl);
  const recheckBlobs = plan.options.force === true;
  const allowSymlinkedDirs = planSymlinkAllowance(plan.options);
  await assertWritableRoot(root);
  const log = (params.logger ?? createLogger()).child({ planId: plan.id, taskId, host });
  const token = params.token === null ? undefined : (params.token ?? (await findToken({ env })).token);
  const owner = leaseOwner({ env, host, pid });
  const gate = createWorkerGate({ store, owner, log, now, env });
  return { plan, root, hubUrl, recheckBlobs, allowSymlinkedDirs, log, token, owner, gate };
}

/**
 * The first line soon after the start (a short task shows one before its final line), then
 * one every interval. Returns the function that stops them.
 */
export function startProgressReports(log: Logger, meter: ProgressMeter, intervalMs: number): () => void {
  const report = (): void => void log.info(meter.line());
  let timer = setTimeout(() => {
    report();
    timer = setInterval(report, intervalMs).unref();
  }, Math.min(FIRST_PROGRESS_MS, intervalMs)).unref();
  return () => clearTimeout(timer);
}
