// Public API of the download engine.
export { downloadBlob, DEFAULT_RETRY, DEFAULT_TIMEOUTS, THREADED_HASH_MIN_BYTES } from './download-blob.js';
export { HashWorkerPool, defaultHashPool, type HashWorkerPoolParams } from './hash-worker-pool.js';
export { createMemoryGate, processGate, type MemoryGate, type MemoryGateParams } from './memory-gate.js';
export { EMPTY_GIT_BLOB_SHA1, EMPTY_SHA256 } from './blob-hash.js';
export { DEFAULT_RANGES } from './ranged-transfer.js';
export { ConnectionBudget } from './connection-budget.js';
export type {
  DownloadBlobParams,
  DownloadBlobResult,
  DownloadFs,
  DownloadGate,
  DownloadLease,
  DownloadLog,
  DownloadTimeouts,
  RangeOptions,
  RetryPolicy,
} from './types.js';
