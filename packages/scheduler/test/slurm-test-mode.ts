// Whether the tests that need a real Slurm run here. They run when HFHPC_SLURM=1 or sbatch is on
// PATH; when they should run but the controller does not answer, they fail (in CI, or when
// HFHPC_SLURM=1 asks for them) rather than skip, so a broken cluster can never pass CI quietly.
import { spawnSync } from 'node:child_process';
import { describe, test } from '@jest/globals';

export type SlurmTestMode = { run: true } | { run: false; fail: boolean; why: string };

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export function slurmTestMode(env: NodeJS.ProcessEnv = process.env): SlurmTestMode {
  const asked = env.HFHPC_SLURM === '1';
  const ci = env.CI === 'true' || env.CI === '1';
  if (!asked && !onPath('sbatch')) {
    return { run: false, fail: ci, why: 'sbatch is not on PATH (CI=true needs the dev cluster: scripts/dev-slurm.sh start)' };
  }
  const ping = spawnSync('scontrol', ['ping'], { encoding: 'utf8', timeout: 20_000 });
  if (ping.status === 0 && /is UP/.test(ping.stdout)) return { run: true };
  return {
    run: false,
    fail: asked || ci,
    why: `no Slurm controller answers (${(ping.stdout || ping.stderr || String(ping.error ?? '')).trim() || 'scontrol ping failed'}); start one with scripts/dev-slurm.sh start`,
  };
}

/** `describe` when Slurm tests run here; else a skipped block, or one failing test that says why. */
export function describeSlurm(name: string, body: () => void): void {
  const mode = slurmTestMode();
  if (mode.run) {
    describe(name, body);
  } else if (mode.fail) {
    describe(name, () => {
      test('needs a running Slurm', () => {
        throw new Error(`Slurm tests cannot run: ${mode.why}`);
      });
    });
  } else {
    describe.skip(`${name} (skipped: ${mode.why})`, body);
  }
}
