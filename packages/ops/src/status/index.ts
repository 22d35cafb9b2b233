export { readStatus, type ReadStatusParams } from './read-status.js';
export { collectStatus, type CollectStatusParams, type JobStateSource } from './collect-status.js';
export { formatStatusText, type FormatStatusOptions } from './format-text.js';
export { formatStatusPrometheus } from './format-prometheus.js';
export { RateTracker } from './rate-tracker.js';
export { reconcileSlurm, ownerTaskKey, type SchedulerJobState } from './slurm-view.js';
export { failureCause, groupFailures } from './failure-groups.js';
export type * from './status-types.js';
export { planDefaults, type PlanDefaults } from './plan-defaults.js';
