export { runCleanup, type RunCleanupParams, type CleanupReport, type CleanupPartial, type PartialVerdict } from './run-cleanup.js';
export { findPartials, type PartialFile } from './find-partials.js';
export { formatCleanup } from './format-cleanup.js';
