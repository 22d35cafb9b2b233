// The Scheduler on a real Slurm: sbatch, squeue (+ sacct when accounting exists), scancel.
import { SchedulerError } from '@hfhpc/core';
import { execaExec, type Exec, type ExecResult } from './exec.js';
import { checkDependency, checkSlurmJobId } from './job-id.js';
import { compareJobStates } from './job-state.js';
import { parseSacct, SACCT_FORMAT } from './parse-sacct.js';
import { parseSqueue, SQUEUE_FORMAT } from './parse-squeue.js';
import type { JobState, Scheduler, SubmitParams } from './types.js';

export interface SlurmSchedulerOptions {
  /** Runs the Slurm commands. Default: execa. */
  exec?: Exec;
  /** Environment for the commands (and, through sbatch's default --export=ALL, for the jobs). Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /**
   * Ask sacct about jobs squeue has forgotten (finished longer ago than MinJobAge): `auto` tries
   * and stops asking once sacct says accounting storage is disabled; `false` never asks.
   * Default `auto`.
   */
  accounting?: 'auto' | false;
  /** Told when sacct fails for another reason (squeue's answer is still returned). Default: ignored. */
  onWarning?: (message: string) => void;
}

function failure(what: string, r: ExecResult): SchedulerError {
  const detail = (r.stderr || r.stdout).trim() || '(no output)';
  return new SchedulerError(`${what} failed (exit ${r.exitCode}): ${detail}`, {
    context: { exitCode: r.exitCode },
    hint: r.exitCode === 127 ? 'Slurm commands are not on PATH here; run on a login node, or use --local' : 'see the Slurm message above',
  });
}

export class SlurmScheduler implements Scheduler {
  readonly kind = 'slurm' as const;
  readonly #exec: Exec;
  readonly #env?: NodeJS.ProcessEnv;
  readonly #onWarning: (message: string) => void;
  #useSacct: boolean;

  constructor(options: SlurmSchedulerOptions = {}) {
    this.#exec = options.exec ?? execaExec;
    this.#env = options.env;
    this.#onWarning = options.onWarning ?? (() => {});
    this.#useSacct = options.accounting !== false;
  }

  #run(file: string, args: string[], cwd?: string): Promise<ExecResult> {
    return this.#exec(file, args, { env: this.#env, cwd });
  }

  /** True when sbatch and squeue run (`--version`); says nothing about the controller being up. */
  async available(): Promise<boolean> {
    for (const cmd of ['sbatch', 'squeue']) {
      if ((await this.#run(cmd, ['--version'])).exitCode !== 0) return false;
    }
    return true;
  }

  /** `sbatch --parsable [--dependency=…] script` → the job id. Throws SchedulerError with sbatch's stderr. */
  async submit(params: SubmitParams): Promise<string> {
    const args = ['--parsable'];
    if (params.dependency !== undefined) args.push(`--dependency=${checkDependency(params.dependency)}`);
    args.push(params.scriptPath);
    const r = await this.#run('sbatch', args, params.cwd);
    if (r.exitCode !== 0) throw failure('sbatch', r);
    // --parsable prints `<id>` or `<id>;<cluster>`.
    const m = /^(\d+)(?:;\S*)?$/m.exec(r.stdout.trim());
    if (!m) throw new SchedulerError(`sbatch printed no job id: ${JSON.stringify(r.stdout.trim())}`);
    return m[1];
  }

  /** One squeue call for all ids (every task of an array), then one sacct call when accounting exists. */
  async jobStates(jobIds: readonly string[]): Promise<JobState[]> {
    if (jobIds.length === 0) return [];
    const list = [...new Set(jobIds.map(checkSlurmJobId))].join(',');
    const byId = new Map<string, JobState>();
    if (this.#useSacct) {
      const r = await this.#run('sacct', ['-X', '-n', '-P', `--jobs=${list}`, `--format=${SACCT_FORMAT}`]);
      if (r.exitCode === 0) {
        for (const row of parseSacct(r.stdout)) byId.set(row.jobId, row);
      } else if (/accounting storage is disabled/i.test(r.stderr)) {
        this.#useSacct = false; // no slurmdbd: squeue (within MinJobAge) is all there is
      } else {
        this.#onWarning(`sacct failed (exit ${r.exitCode}): ${r.stderr.trim()}; using squeue only`);
      }
    }
    const r = await this.#run('squeue', ['--array', '--noheader', '--states=all', `--jobs=${list}`, `--Format=${SQUEUE_FORMAT}`]);
    if (r.exitCode === 0) {
      // squeue is the live view (and the only one with restart counts): it wins over sacct.
      for (const row of parseSqueue(r.stdout)) byId.set(row.jobId, row);
    } else if (!/invalid job id/i.test(r.stderr)) {
      // "Invalid job id" means none of them is known any more: sacct's rows (if any) stand.
      throw failure('squeue', r);
    }
    // Right after submission slurmdbd may still hold the array as one plain row (`176`,
    // PENDING) while its tasks already run: a task-less row of an array with task rows is stale.
    const arrays = new Set([...byId.values()].filter((j) => j.taskId !== null).map((j) => j.arrayJobId));
    return [...byId.values()].filter((j) => j.taskId !== null || !arrays.has(j.arrayJobId)).sort(compareJobStates);
  }

  /** `scancel <id>`: a whole array or one task. Cancelling a finished job is not an error. */
  async cancel(jobId: string): Promise<void> {
    const r = await this.#run('scancel', [checkSlurmJobId(jobId)]);
    if (r.exitCode !== 0 && !/already completing or completed|invalid job id/i.test(r.stderr)) throw failure('scancel', r);
  }
}
