// The conformance suite on the real dev cluster (scripts/dev-slurm.sh start).
import { SlurmScheduler } from '../src/index.js';
import { schedulerConformance } from './conformance.js';
import { describeSlurm } from './slurm-test-mode.js';

describeSlurm('SlurmScheduler conformance (real Slurm)', () => {
  schedulerConformance({ make: () => new SlurmScheduler(), unknownId: '987654321', pollMs: 500 });
});
