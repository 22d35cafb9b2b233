// Public API of @hfhpc/planner: re-exports only.
export * from './sbatch/index.js';
export {};
export { planDownload, type PlanDownloadParams, type PlanOutcome, type DatasetOutcome } from './plan-download.js';
export { submitVerifyAfter, type SubmitVerifyAfterParams, type SubmittedVerify } from './submit-verify-after.js';
export { resubmitFailed, type ResubmitFailedParams, type ResubmitOutcome } from './resubmit-failed.js';
export { planJson, planText, resubmitJson, resubmitText } from './plan-report.js';
export { assignShards, type AssignShardsParams, type Shard, type ShardPlan, type ShardableFile } from './shard.js';
export { DEFAULT_MAX_FILES_PER_SHARD, MIN_FILES_PER_FILLED_SHARD, PER_FILE_OVERHEAD_BYTES, fileCost, shardCount } from './shard-cost.js';
export { createPathFilter, FAST_GLOB_MATCH_OPTIONS, type PathFilterParams } from './path-filter.js';
export { resolvePlanSettings, DEFAULT_SHARD_SIZE, DEFAULT_MAX_PARALLEL, type PlanSettings, type PlanSettingsInput } from './plan-settings.js';
export { preflight, type PreflightParams, type PreflightResult } from './preflight.js';
export { renderPlanScripts, planDir, type RenderPlanScriptsParams, type RenderedScript, type PlanSlurmSettings, type PlanWorkSettings } from './render-plan-scripts.js';
export { submitScripts, type SubmitScriptsParams } from './submit-scripts.js';
