// Public API of @hfhpc/ops, the operator's side of a stored plan: re-exports only.
export * from './status/index.js';
export * from './verify/index.js';
export * from './cleanup/index.js';
export * from './doctor/index.js';
