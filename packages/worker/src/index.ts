// Public API of @hfhpc/worker: re-exports only.
export { runWorker, type RunWorkerParams, type WorkerResult, type ShardOutcome } from './run-worker.js';
export { runShard, type RunShardParams, type RunShardResult, type ShardFailure, type ProgressSink } from './run-shard.js';
export { watchSignals, STOP_SIGNALS, type SignalWatch, type StopSignal, type WatchSignalsParams } from './signals.js';
export { resolveTaskId, type ResolveTaskIdParams } from './resolve-task-id.js';
export { resolveConcurrency, type DefaultConcurrencyParams } from './resolve-concurrency.js';
export { createBudgetPacer, type BudgetPacer, type BudgetPacerParams, type BudgetTable } from './budget-pacer.js';
export { createWorkerGate, createPacedGate, type WorkerGateParams } from './worker-gate.js';
export { createThrottleGate, type RequestGate, type ThrottleTable, type ThrottleGateParams } from './throttle-gate.js';
export { ProgressMeter, type ProgressSnapshot, type ProgressMeterParams } from './progress-meter.js';
export { placeSnapshotLink, type PlaceFileParams } from './place-snapshot-link.js';
export { resolveUrl } from './resolve-url.js';
export * from './download/index.js';
export type { DownloadFn, DownloadRequest, DownloadOutcome } from './download-fn.js';
export { summarizePlan, formatPlanSummary, type PlanSummary, type DatasetSummary } from './plan-summary.js';
