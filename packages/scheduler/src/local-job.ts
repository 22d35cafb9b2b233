// One local job (a plain job or an array): its tasks' lifecycle, Slurm-style states, the
// `%K` throttle, and cancellation with SIGTERM then SIGKILL (Slurm's KillWait).
import { constants } from 'node:os';
import type { ResultPromise } from 'execa';
import { isTerminal } from './job-state.js';
import type { JobState, JobStateName } from './types.js';

/** What must happen before the job's tasks may start (`--dependency`). */
export type DependencyCheck = () => 'wait' | 'ok' | 'never';

export interface LocalJobParams {
  id: string;
  /** Task indices; null: a plain job (one task, no index). */
  indices: number[] | null;
  /** Tasks running at once. Default: all. */
  maxParallel?: number;
  /** Start task `index` (null for a plain job). `group`: signal its whole process group. */
  launch: (index: number | null) => { child: ResultPromise; group: boolean };
  /** ms between SIGTERM and SIGKILL on cancel. */
  killWaitMs: number;
  dependency?: DependencyCheck;
  /** Called whenever a task ends (dependants may now start). */
  onTaskEnd: () => void;
}

interface Task {
  index: number | null;
  state: JobStateName;
  reason: string;
  exitCode: number | null;
  signal: number | null;
  child?: ResultPromise;
  group: boolean;
  cancelled: boolean;
  killTimer?: NodeJS.Timeout;
}

function signalNumber(name: string | undefined): number | null {
  if (!name) return null;
  return (constants.signals as Record<string, number>)[name] ?? null;
}

export class LocalJob {
  readonly id: string;
  readonly #p: LocalJobParams;
  readonly #tasks: Task[];
  readonly #ended: Promise<void>;
  #resolveEnded!: () => void;

  constructor(params: LocalJobParams) {
    this.id = params.id;
    this.#p = params;
    this.#tasks = (params.indices ?? [null]).map((index) => ({
      index, state: 'PENDING', reason: 'None', exitCode: null, signal: null, group: false, cancelled: false,
    }));
    this.#ended = new Promise((resolve) => (this.#resolveEnded = resolve));
  }

  /** Resolves once every task is in a terminal state. */
  get ended(): Promise<void> {
    return this.#ended;
  }

  /** Whether every task ended, and every one COMPLETED. */
  outcome(): 'running' | 'completed' | 'failed' {
    if (!this.#tasks.every((t) => isTerminal(t.state))) return 'running';
    return this.#tasks.every((t) => t.state === 'COMPLETED') ? 'completed' : 'failed';
  }

  /** Start what may start now. */
  pump(): void {
    const dep = this.#p.dependency?.() ?? 'ok';
    const pending = this.#tasks.filter((t) => t.state === 'PENDING');
    if (dep !== 'ok') {
      for (const t of pending) t.reason = dep === 'wait' ? 'Dependency' : 'DependencyNeverSatisfied';
      return;
    }
    const limit = this.#p.maxParallel ?? Infinity;
    for (const t of pending) {
      if (t.state !== 'PENDING') continue; // a nested pump got to it first
      if (this.#tasks.filter((x) => x.state === 'RUNNING').length >= limit) {
        t.reason = 'JobArrayTaskLimit';
        continue;
      }
      this.#start(t);
    }
  }

  #start(t: Task): void {
    t.state = 'RUNNING';
    t.reason = 'None';
    let launched: { child: ResultPromise; group: boolean };
    try {
      launched = this.#p.launch(t.index);
    } catch {
      // The output file could not be opened, or the like: Slurm's JobLaunchFailure.
      t.state = 'FAILED';
      t.reason = 'JobLaunchFailure';
      t.exitCode = 127;
      queueMicrotask(() => this.#settle());
      return;
    }
    const { child, group } = launched;
    t.child = child;
    t.group = group;
    void child.then((r) => {
      clearTimeout(t.killTimer);
      t.child = undefined;
      const signal = signalNumber(r.signal);
      if (r.exitCode === undefined && signal === null) {
        // Never started (program missing, bad cwd): Slurm calls that a launch failure.
        t.state = 'FAILED';
        t.reason = 'JobLaunchFailure';
        t.exitCode = 127;
      } else {
        t.exitCode = r.exitCode ?? null;
        t.signal = signal;
        t.state = t.cancelled ? 'CANCELLED' : t.exitCode === 0 ? 'COMPLETED' : 'FAILED';
        t.reason = t.state === 'FAILED' ? 'NonZeroExitCode' : 'None';
      }
      this.#settle();
    });
  }

  #settle(): void {
    this.pump();
    this.#p.onTaskEnd();
    if (this.#tasks.every((t) => isTerminal(t.state))) this.#resolveEnded();
  }

  /** Cancel every task, or the one with `index`: pending ones never start, running ones get SIGTERM, then SIGKILL. */
  cancel(index?: number | null): void {
    for (const t of this.#tasks) {
      if (index !== undefined && t.index !== index) continue;
      if (!isTerminal(t.state)) this.#end(t, 'SIGTERM', t.group);
    }
    this.#settle();
  }

  /**
   * Stop every task as `scancel --batch --signal` and the job's end would: pending tasks never
   * start; each running task's own process (the batch shell, whose trap forwards the signal to
   * the worker) gets `signal`, and its whole process group SIGKILL after killWaitMs.
   */
  stop(signal: NodeJS.Signals): void {
    for (const t of this.#tasks) {
      if (isTerminal(t.state)) continue;
      if (t.killTimer) {
        t.cancelled = true;
        continue; // already stopping
      }
      this.#end(t, signal, false);
    }
    this.#settle();
  }

  /** A pending task never starts; a running one gets `signal` (its group, or its own process), then SIGKILL after killWaitMs. */
  #end(t: Task, signal: NodeJS.Signals, wholeGroup: boolean): void {
    t.cancelled = true;
    if (t.state === 'PENDING') {
      t.state = 'CANCELLED';
      t.reason = 'None';
      return;
    }
    this.#kill(t, signal, wholeGroup);
    t.killTimer = setTimeout(() => this.#kill(t, 'SIGKILL'), this.#p.killWaitMs);
    t.killTimer.unref();
  }

  #kill(t: Task, signal: NodeJS.Signals, group = t.group): void {
    const pid = t.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(group ? -pid : pid, signal);
    } catch {
      // Already gone: its exit is on the way.
    }
  }

  /** The tasks as JobState rows. */
  states(): JobState[] {
    return this.#tasks.map((t) => ({
      jobId: t.index === null ? this.id : `${this.id}_${t.index}`,
      arrayJobId: this.id,
      taskId: t.index,
      state: t.state,
      reason: t.reason,
      exitCode: t.exitCode,
      signal: t.signal,
      restarts: 0,
    }));
  }
}
