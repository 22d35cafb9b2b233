// The SQLite state store: plans, shards, files, leases with fencing, progress, throttle, events.
export * from './types.js';
export { openStore, type Store, type OpenStoreOptions } from './open-store.js';
export { migrations, LATEST_SCHEMA_VERSION, type Migration } from './migrations.js';
export { migrate, readSchemaVersion } from './migrate.js';
export { journalMode } from './journal-mode.js';
export { withBusyRetry, isBusyError, busyDelay, sleepSync, type BusyRetryOptions } from './busy-retry.js';
export { createPlan, latestPlan, getPlan, setPlanJobIds, type NewPlan, type NewPlanFile } from './plan.js';
export { findPlan, resolvePlan, type ResolvePlanHints } from './resolve-plan.js';
export { planDefaults, type PlanDefaults } from './plan-defaults.js';
export { failedShardIndices, resetFailedShards } from './failed-shards.js';
export { neededBlobs } from './newest-plan.js';
export { inspectDatabase, type DatabaseInspector } from './inspect-database.js';
export { probeSqliteLocking, LOCK_HOLDER_PATH, type LockProbeParams, type LockProbeResult } from './probe-sqlite-locking.js';
export { planProgress, DONE_RATE_BUCKET_MS, type PlanProgress, type PlanProgressParams, type DatasetProgress, type ShardProgress, type ProgressCounts, type FailedFile } from './plan-progress.js';
export { planRollup, rollupProgress, deriveState, type PlanRollup, type DatasetRollup, type StateCounts } from './plan-rollup.js';
export { listShards, shardFiles, fileStatesByBlob, type BlobState } from './shards.js';
export { shardFilesPage, shardTotals, shardHasRecordedBytes, type ShardFilesCursor, type ShardFilesPage } from './shard-files-page.js';
export { planBytesLeft } from './plan-bytes-left.js';
export { claimShard, heartbeat, releaseLease, finishShard, expireLeases, type ClaimShardParams, type FinishResult, type ExpiredLease } from './lease.js';
export { leaseOwner, type LeaseOwnerParams } from './lease-owner.js';
export { listLeases, leasedBlobs, type LeaseRow } from './lease-list.js';
export { assertClaimFence } from './fence.js';
export { markFileRunning, markFileDone, markFileFailed, resetFile } from './file-state.js';
export { ProgressBatcher, type ProgressBatcherOptions } from './progress.js';
export { getThrottle, setThrottle, type Throttle, type SetThrottleParams } from './throttle.js';
export { getRateBudget, claimRateBudget, type RateBudgetRow, type ClaimRateBudgetParams } from './rate-budget.js';
export { appendEvent, recentEvents, pruneEvents, countPrunableEvents, type NewEvent, type RecentEventsParams, type PruneEventsParams } from './events.js';
export {
  recordBlobVerified,
  forgetBlobVerified,
  blobVerificationsOfPlan,
  blobKey,
  sameFingerprint,
  type BlobFingerprint,
  type BlobVerification,
  type NewBlobVerification,
} from './blob-verification.js';
export { planFilesOf, planRepos, readPlanFiles, datasetTreeFiles, type PlanFileRow, type PlanFileState } from './plan-files.js';
