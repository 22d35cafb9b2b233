// The plan's stored root and hub URL are a read of core's store (`planDefaults`); status's API
// re-exports it for the commands run with only `--db`.
export { planDefaults, type PlanDefaults } from '@hfhpc/core';
