// The Scheduler without Slurm, and hfhpc's one local launcher: a batch script is "submitted" and
// run with bash per array task, with Slurm's variables (slurm-task-env.ts), honouring its --array
// (with %K), --output/--error patterns, --open-mode, --job-name and --cpus-per-task, and an
// afterok/afterany dependency, so the same scripts and the same conformance suite run on a
// laptop. `hfhpc run --local` submits the plan's rendered download.sbatch here.
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { hostname, userInfo } from 'node:os';
import { basename, resolve } from 'node:path';
import { execa } from 'execa';
import { UsageError } from '@hfhpc/core';
import { compareJobStates } from './job-state.js';
import { LocalJob, type DependencyCheck } from './local-job.js';
import { expandOutputPattern, parseScriptDirectives } from './sbatch-directives.js';
import { slurmTaskEnv } from './slurm-task-env.js';
import type { JobState, Scheduler, SubmitParams } from './types.js';

export interface LocalSchedulerOptions {
  /** Environment every task starts from. Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Runs submitted scripts. Default `/bin/bash`. */
  shell?: string;
  /** ms between SIGTERM and SIGKILL when cancelling. Default 10000 (Slurm's KillWait on the dev cluster). */
  killWaitMs?: number;
}

/** `submit` with what only a local run can do. */
export interface LocalSubmitParams extends SubmitParams {
  /**
   * Each line a task writes (stdout or stderr), instead of the script's --output/--error files:
   * `hfhpc run --local` shows its tasks' lines on its own terminal. Default: the files, as sbatch.
   */
  onLine?: (line: string, taskId: number | null) => void;
}

// Files are opened for appending by both streams, so stdout and stderr interleave without
// overwriting each other; truncation, when asked for, happens before. 'pipe': read by onLine.
type Io = 'pipe' | { file: string; append: true };

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

  #run(argv: readonly string[], opts: { env: NodeJS.ProcessEnv; cwd?: string; stdout: Io; stderr: Io; onLine?: (line: string) => void }) {
    const child = execa(argv[0], argv.slice(1), {
      reject: false,
      env: opts.env,
      extendEnv: false,
      cwd: opts.cwd,
      stdin: 'ignore',
      stdout: opts.stdout,
      stderr: opts.stderr,
      // A script's children share its process group, so cancel reaches all of them (as Slurm's
      // proctrack does), and a Ctrl-C on our terminal reaches only us: we decide what to forward.
      detached: true,
      buffer: false,
    });
    const onLine = opts.onLine;
    if (onLine) for (const input of [child.stdout, child.stderr]) if (input) createInterface({ input, crlfDelay: Infinity }).on('line', onLine);
    return { child, group: true };
  }

  /** Run a batch script locally, as sbatch would (see the file comment). Resolves to `local-<n>`. */
  async submit(params: LocalSubmitParams): Promise<string> {
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
    const { onLine } = params;
    const job = new LocalJob({
      id,
      indices: d.array?.indices ?? null,
      maxParallel: d.array?.maxParallel,
      killWaitMs: this.#killWaitMs,
      dependency,
      onTaskEnd: this.#pumpAll,
      launch: (taskId) => {
        const env: NodeJS.ProcessEnv = { ...this.#env, ...slurmTaskEnv({ jobId: id, taskId, jobName, submitDir: cwd, directives: d }) };
        const argv = [this.#shell, scriptPath];
        if (onLine) return this.#run(argv, { env, cwd, stdout: 'pipe', stderr: 'pipe', onLine: (line) => onLine(line, taskId) });
        const jobId = taskId === null ? id : `${id}_${taskId}`;
        const pattern = { arrayJobId: id, taskId, jobId, jobName, user: userName(this.#env), host: hostname() };
        const files = [d.output, d.error ?? d.output].map((p) => resolve(cwd, expandOutputPattern({ ...pattern, pattern: p })));
        if (d.openMode === 'truncate') for (const f of new Set(files)) writeFileSync(f, '');
        const [stdout, stderr] = files.map((file): Io => ({ file, append: true }));
        return this.#run(argv, { env, cwd, stdout, stderr });
      },
    });
    this.#jobs.set(id, job);
    job.pump();
    return id;
  }

  /** Resolves once every task of a local job ended, with their states (sorted by task). */
  async wait(jobId: string): Promise<JobState[]> {
    const job = this.#jobs.get(jobId);
    if (!job) throw new UsageError(`unknown local job ${jobId}`);
    await job.ended;
    return job.states();
  }

  /**
   * Stop a job as Slurm's `scancel --batch --signal` would, then end it: pending tasks never
   * start; each running batch script gets `signal` (the download template's trap forwards it to
   * `hfhpc work`, which releases its lease and exits 75); SIGKILL to what is left after
   * killWaitMs. Nothing is requeued.
   */
  stop(jobId: string, signal: NodeJS.Signals = 'SIGTERM'): void {
    this.#jobs.get(jobId)?.stop(signal);
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
