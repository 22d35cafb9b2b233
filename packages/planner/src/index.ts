// Public API of @hfhpc/planner: re-exports only.
export {};
