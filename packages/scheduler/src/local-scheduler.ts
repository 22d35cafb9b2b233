// The Scheduler without Slurm: tasks are local processes (`hfhpc run --local`), and a batch
// script can be "submitted" too, honouring its --array (with %K), --output/--error patterns,
// --open-mode and --job-name, and an afterok/afterany dependency, so the same scripts and the
// same conformance suite run on a laptop.
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { basename, resolve } from 'node:path';
import { execa } from 'execa';
import { UsageError } from '@hfhpc/core';
import { compareJobStates } from './job-state.js';
import { LocalJob, type DependencyCheck } from './local-job.js';
import { expandOutputPattern, parseScriptDirectives } from './sbatch-directives.js';
import type { JobState, Scheduler, SubmitParams } from './types.js';

export interface LocalSchedulerOptions {
  /** Environment every task starts from. Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Runs submitted scripts. Default `/bin/bash`. */
  shell?: string;
  /** ms between SIGTERM and SIGKILL when cancelling. Default 10000 (Slurm's KillWait on the dev cluster). */
  killWaitMs?: number;
}

export interface SpawnParams {
  /** Tasks to run, indices 0…taskCount-1. */
  taskCount: number;
  /** argv of task i, program first. */
  makeArgs: (index: number) => readonly string[];
  /** Variables added to task i's environment. */
  makeEnv?: (index: number) => NodeJS.ProcessEnv;
  /** Default: this process's. */
  cwd?: string;
  /** Where stdout and stderr of task i go: `inherit` (default), `ignore`, or a file (appended to). */
  output?: 'inherit' | 'ignore' | ((index: number) => string);
  /** Tasks at once. Default: all. */
  maxParallel?: number;
}

/** What `spawn` returns. */
export interface LocalArray {
  /** `local-<n>`: also usable with `jobStates` and `cancel`. */
  readonly jobId: string;
  /** Resolves when every task ended: exit code per task; a signal n counts as 128+n, a task cancelled before it started as 143. */
  wait(): Promise<number[]>;
  /** Send a signal to every running task (e.g. forward Ctrl-C as SIGINT). */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM running tasks (SIGKILL after killWaitMs); pending ones never start. */
  cancel(): void;
}

// Files are opened for appending by both streams, so stdout and stderr interleave without
// overwriting each other; truncation, when asked for, happens before.
type Io = 'inherit' | 'ignore' | { file: string; append: true };

// %u in an output pattern; containers may run as a uid without a passwd entry.
function userName(env: NodeJS.ProcessEnv): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? String(process.getuid?.() ?? 'unknown');
  }
}

export class LocalScheduler implements Scheduler {
  readonly kind = 'local' as const;
  readonly #env: NodeJS.ProcessEnv;
  readonly #shell: string;
  readonly #killWaitMs: number;
  readonly #jobs = new Map<string, LocalJob>();
  #next = 1;

  constructor(options: LocalSchedulerOptions = {}) {
    this.#env = options.env ?? process.env;
    this.#shell = options.shell ?? '/bin/bash';
    this.#killWaitMs = options.killWaitMs ?? 10_000;
  }

  async available(): Promise<boolean> {
    return true;
  }

  #newId(): string {
    return `local-${this.#next++}`;
  }

  #pumpAll = (): void => {
    for (const job of this.#jobs.values()) job.pump();
  };

  #run(argv: readonly string[], opts: { env: NodeJS.ProcessEnv; cwd?: string; stdout: Io; stderr: Io; group: boolean }) {
    const child = execa(argv[0], argv.slice(1), {
      reject: false,
      env: opts.env,
      extendEnv: false,
      cwd: opts.cwd,
      stdin: 'ignore',
      stdout: opts.stdout,
      stderr: opts.stderr,
      // A script's children share its process group, so cancel reaches all of them (as Slurm's
      // proctrack does); plain tasks stay in ours, so Ctrl-C on a terminal reaches them too.
      detached: opts.group,
      buffer: false,
    });
    return { child, group: opts.group };
  }

  /** Run `taskCount` local processes; see `LocalArray`. */
  spawn(params: SpawnParams): LocalArray {
    const { taskCount } = params;
    if (!Number.isInteger(taskCount) || taskCount < 1) throw new UsageError(`task count must be a whole number ≥ 1, got ${taskCount}`);
    const id = this.#newId();
    const job = new LocalJob({
      id,
      indices: Array.from({ length: taskCount }, (_, i) => i),
      maxParallel: params.maxParallel,
      killWaitMs: this.#killWaitMs,
      onTaskEnd: this.#pumpAll,
      launch: (index) => {
        const i = index ?? 0;
        const argv = params.makeArgs(i);
        if (argv.length === 0) throw new UsageError(`task ${i}: empty command`);
        const out = params.output ?? 'inherit';
        const io: Io = typeof out === 'function' ? { file: out(i), append: true } : out;
        return this.#run(argv, { env: { ...this.#env, ...params.makeEnv?.(i) }, cwd: params.cwd, stdout: io, stderr: io, group: false });
      },
    });
    this.#jobs.set(id, job);
    job.pump();
    return {
      jobId: id,
      wait: async () => {
        await job.ended;
        return job.states().map((s) => (s.exitCode ?? (s.signal !== null ? 128 + s.signal : 143)));
      },
      signal: (signal) => job.signal(signal),
      cancel: () => job.cancel(),
    };
  }

  /** Run a batch script locally, as sbatch would (see the file comment). Resolves to `local-<n>`. */
  async submit(params: SubmitParams): Promise<string> {
    const scriptPath = resolve(params.cwd ?? process.cwd(), params.scriptPath);
    let text: string;
    try {
      text = readFileSync(scriptPath, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read batch script ${scriptPath}: ${(err as Error).message}`, { cause: err });
    }
    const d = parseScriptDirectives(text);
    const dependency = params.dependency === undefined ? undefined : this.#dependency(params.dependency);
    const id = this.#newId();
    const cwd = params.cwd ?? process.cwd();
    const jobName = d.jobName ?? basename(scriptPath);
    const job = new LocalJob({
      id,
      indices: d.array?.indices ?? null,
      maxParallel: d.array?.maxParallel,
      killWaitMs: this.#killWaitMs,
      dependency,
      onTaskEnd: this.#pumpAll,
      launch: (taskId) => {
        const jobId = taskId === null ? id : `${id}_${taskId}`;
        const pattern = { arrayJobId: id, taskId, jobId, jobName, user: userName(this.#env), host: hostname() };
        const files = [d.output, d.error ?? d.output].map((p) => resolve(cwd, expandOutputPattern({ ...pattern, pattern: p })));
        if (d.openMode === 'truncate') for (const f of new Set(files)) writeFileSync(f, '');
        const env: NodeJS.ProcessEnv = {
          ...this.#env,
          SLURM_JOB_ID: jobId,
          SLURM_JOB_NAME: jobName,
          SLURM_SUBMIT_DIR: cwd,
          ...(taskId === null ? {} : { SLURM_ARRAY_JOB_ID: id, SLURM_ARRAY_TASK_ID: String(taskId), SLURM_ARRAY_TASK_COUNT: String(d.array!.indices.length) }),
        };
        const [stdout, stderr] = files.map((file): Io => ({ file, append: true }));
        return this.#run([this.#shell, scriptPath], { env, cwd, stdout, stderr, group: true });
      },
    });
    this.#jobs.set(id, job);
    job.pump();
    return id;
  }

  // afterok / afterany on local jobs (Slurm's other kinds have no local meaning).
  #dependency(spec: string): DependencyCheck {
    const m = /^(afterok|afterany)((?::local-\d+)+)$/.exec(spec);
    if (!m) throw new UsageError(`local jobs support afterok:<id> and afterany:<id> dependencies, got ${JSON.stringify(spec)}`);
    const kind = m[1];
    const ids = m[2].slice(1).split(':');
    for (const id of ids) if (!this.#jobs.has(id)) throw new UsageError(`dependency on unknown local job ${id}`);
    return () => {
      const outcomes = ids.map((id) => this.#jobs.get(id)!.outcome());
      if (outcomes.includes('running')) return 'wait';
      return kind === 'afterok' && outcomes.includes('failed') ? 'never' : 'ok';
    };
  }

  async jobStates(jobIds: readonly string[]): Promise<JobState[]> {
    const rows = new Map<string, JobState>();
    for (const id of jobIds) {
      const [jobId, task] = id.split('_');
      for (const s of this.#jobs.get(jobId)?.states() ?? []) {
        if (task === undefined || String(s.taskId) === task) rows.set(s.jobId, s);
      }
    }
    return [...rows.values()].sort(compareJobStates);
  }

  async cancel(jobId: string): Promise<void> {
    const [id, task] = jobId.split('_');
    const job = this.#jobs.get(id);
    if (!job) return; // like scancel on a job long gone
    job.cancel(task === undefined ? undefined : Number(task));
  }

  /** Cancel everything still running or pending and wait until it ended (tests, Ctrl-C). */
  async shutdown(): Promise<void> {
    for (const job of this.#jobs.values()) job.cancel();
    await Promise.all([...this.#jobs.values()].map((j) => j.ended));
  }
}
