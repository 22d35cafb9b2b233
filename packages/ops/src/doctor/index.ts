export { runDoctor, formatDoctor, DOCTOR_CHECKS, type RunDoctorParams, type DoctorReport } from './run-doctor.js';
export type { CheckResult, CheckStatus, DoctorCheck, DoctorContext } from './doctor-types.js';
export { findOnPath } from './check-slurm.js';
export { MIN_NODE_VERSION } from './check-node.js';
