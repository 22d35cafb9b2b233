// `hfhpc run --local` after the plan: the plan's rendered download script(s) go to the
// LocalScheduler, which runs each array task with bash and Slurm's variables, so a local run
// exercises the real script, its signal forwarding and its exit codes. Stop signals reach the
// tasks as Slurm's would: SIGTERM to each batch script, whose trap forwards it to `hfhpc work`.
import { ExitCode, escapeControls, openStore, type Logger } from '@hfhpc/core';
import type { JobState, LocalScheduler } from '@hfhpc/scheduler';
import { formatPlanSummary, summarizePlan, watchSignals, type PlanSummary, type SignalWatch } from '@hfhpc/worker';
import { readLocalProgress, type LocalProgressView } from './local-progress.js';

export interface RunScriptsLocallyParams {
  /** The plan's batch scripts (`download.sbatch`, or `download-0.sbatch`…). */
  scripts: readonly string[];
  planId: number;
  dbPath: string;
  scheduler: LocalScheduler;
  /** Default: watch SIGTERM/SIGINT/SIGUSR1 and stop every job with SIGTERM. */
  signals?: SignalWatch;
  log?: Logger;
  /** Where the closing summary goes. Default stdout. */
  print?: (line: string) => void;
  /**
   * A live view (the progress bar): the tasks' lines go to `view.log` without their
   * `Progress:` lines, and `view.update` gets the plan's totals every `progressMs`. Default
   * none: every task line goes to stderr.
   */
  view?: LocalProgressView;
  /** Default 1,000 ms. */
  progressMs?: number;
}

export interface RunScriptsLocallyResult {
  /** Every task of every script, as the scheduler saw it end. */
  tasks: JobState[];
  /** Exit code of each task that ran (128 + n when killed by signal n). */
  exitCodes: number[];
  summary: PlanSummary;
  /** 0 all done; 75 interrupted; 1 otherwise. */
  exitCode: number;
}

/** A task's exit code; null for one cancelled before it started. */
export function taskExitCode(s: JobState): number | null {
  return s.exitCode ?? (s.signal !== null ? 128 + s.signal : null);
}

export async function runScriptsLocally(params: RunScriptsLocallyParams): Promise<RunScriptsLocallyResult> {
  const { scheduler, view, log } = params;
  const print = params.print ?? ((line: string) => void process.stdout.write(`${escapeControls(line)}\n`));
  const jobIds: string[] = [];
  let progress: { show(): void; stop(): void } | undefined;
  const stopAll = (): void => {
    for (const id of jobIds) scheduler.stop(id, 'SIGTERM');
  };
  const signals =
    params.signals ??
    watchSignals({
      onSignal: (sig) => {
        // Above the bar when one is drawn, so the line is not drawn over.
        const line = `${sig}: stopping the local job (SIGTERM to each running task's batch script; no new task starts)`;
        if (view) view.log(line);
        else log?.warn(line);
        stopAll();
      },
    });
  try {
    await submitAll(params, jobIds, signals, stopAll);
    progress = view ? showProgress(params, view) : undefined;
    const tasks = (await Promise.all(jobIds.map((id) => scheduler.wait(id)))).flat();
    progress?.stop();
    progress?.show();
    view?.stop();
    const exitCodes = taskExitCodes(tasks, log);
    const summary = readSummary(params.dbPath, params.planId);
    for (const line of formatPlanSummary(summary)) print(line);
    const interrupted = signals.received() !== undefined || exitCodes.includes(ExitCode.INTERRUPTED);
    const exitCode = interrupted ? ExitCode.INTERRUPTED : summary.complete && exitCodes.every((c) => c === 0) ? ExitCode.OK : ExitCode.FAILED;
    return { tasks, exitCodes, summary, exitCode };
  } finally {
    progress?.stop();
    view?.stop();
    signals.dispose();
  }
}

/** Each script to the scheduler; a stop signal already received stops what runs. */
async function submitAll(params: RunScriptsLocallyParams, jobIds: string[], signals: SignalWatch, stopAll: () => void): Promise<void> {
  const { scheduler, view, log } = params;
  // The batch scripts' own lines and the workers' go to stderr: stdout is the summary's.
  const onLine = (line: string): void => {
    if (!view) process.stderr.write(`${line}\n`);
    else if (!PROGRESS_LINE_RE.test(line)) view.log(line);
  };
  try {
    for (const scriptPath of params.scripts) {
      jobIds.push(await scheduler.submit({ scriptPath, onLine }));
      log?.info(`local job ${jobIds.at(-1)!}: ${scriptPath}`);
      if (signals.received() !== undefined) stopAll();
    }
  } catch (err) {
    // A script that cannot be read: what already runs stops and ends before the error is told.
    stopAll();
    await Promise.all(jobIds.map((id) => scheduler.wait(id)));
    throw err;
  }
}

/** The plan's totals to the view now and every `progressMs` until `stop()`. */
function showProgress(params: RunScriptsLocallyParams, view: LocalProgressView): { show(): void; stop(): void } {
  const show = (): void => {
    try {
      view.update(readLocalProgress({ dbPath: params.dbPath, planId: params.planId }));
    } catch (err) {
      // A busy database skips one redraw; the tasks' own errors reach the view as lines.
      params.log?.debug(`progress not read: ${(err as Error).message}`);
    }
  };
  show();
  const ticker = setInterval(show, params.progressMs ?? 1000);
  return { show, stop: () => clearInterval(ticker) };
}

function taskExitCodes(tasks: JobState[], log: Logger | undefined): number[] {
  const exitCodes: number[] = [];
  for (const t of tasks) {
    const code = taskExitCode(t);
    if (code === null) continue;
    exitCodes.push(code);
    if (code !== 0) log?.warn(`task ${t.jobId} exited ${code}`);
  }
  log?.info(`${exitCodes.length} task(s) ran, ${exitCodes.filter((c) => c === 0).length} exited 0`);
  return exitCodes;
}

function readSummary(dbPath: string, planId: number): PlanSummary {
  const store = openStore({ path: dbPath, create: false });
  try {
    return summarizePlan({ store, planId });
  } finally {
    store.close();
  }
}

// A worker's periodic line, in text or JSON log format.
const PROGRESS_LINE_RE = /(?:\] |"msg":")Progress: /;
