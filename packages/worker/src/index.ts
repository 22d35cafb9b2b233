// Public API of @hfhpc/worker: re-exports only.
export {};
