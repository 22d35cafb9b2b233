// Public API of @hfhpc/planner: re-exports only.
export * from './status/index.js';
export * from './verify/index.js';
export * from './cleanup/index.js';
export * from './doctor/index.js';
export {};
