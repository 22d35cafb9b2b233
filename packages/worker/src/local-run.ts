import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { createInterface } from 'node:readline';
import { ExitCode, escapeControls, listShards, openStore, type Logger } from '@hfhpc/core';
import { formatPlanSummary, summarizePlan, type PlanSummary } from './plan-summary.js';
import { watchSignals, type SignalWatch, type StopSignal } from './signals.js';

/** A running local task (one `hfhpc work` process). */
export interface LocalTask {
  /** Deliver a signal (forwarded stop signals). */
  kill(signal: StopSignal): void;
  /** The exit code; 128 + n when killed by signal n. */
  exited: Promise<number>;
}

/** Starts one local task; D's LocalScheduler or a plain child process. */
export type SpawnTask = (p: { index: number; command: string; args: string[]; env: NodeJS.ProcessEnv; onLine?: (line: string) => void }) => LocalTask;

/**
 * Default: a child process sharing this terminal, so its Progress lines show; with `onLine`,
 * its stderr is read line by line and handed over instead (a progress bar owns the terminal).
 */
export const spawnChild: SpawnTask = ({ command, args, env, onLine }) => {
  const child = spawn(command, args, { env, stdio: ['ignore', 'inherit', onLine ? 'pipe' : 'inherit'] });
  if (onLine && child.stderr) createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', onLine);
  const exited = new Promise<number>((resolve) => {
    child.on('error', () => resolve(ExitCode.FAILED));
    // 'close', not 'exit': every line the child wrote to a piped stderr has been handed over.
    child.on('close', (code, sig) => resolve(code ?? 128 + (sig ? constants.signals[sig] : 0)));
  });
  return { kill: (sig) => void child.kill(sig), exited };
};

/** The plan's totals, as a progress view shows them. */
export interface LocalProgress {
  filesDone: number;
  filesFailed: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

/** A live view of a local run (the CLI's progress bar on a terminal). */
export interface LocalProgressView {
  /** The plan's totals, every `progressMs`. */
  update(p: LocalProgress): void;
  /** A line a worker wrote to stderr, other than its `Progress:` lines (the view shows those). */
  log(line: string): void;
  stop(): void;
}

/**
 * The plan's totals from its shards (one short read transaction). A locked database is given
 * up on after `waitMs` (default 200 ms, then a StateError): the caller skips one redraw rather
 * than block the thread that forwards stop signals to the workers.
 */
export function readLocalProgress(params: { dbPath: string; planId: number; waitMs?: number }): LocalProgress {
  const waitMs = params.waitMs ?? 200;
  const store = openStore({ path: params.dbPath, create: false, readonly: true, busyTimeoutMs: waitMs, busyRetryMs: waitMs });
  try {
    const p: LocalProgress = { filesDone: 0, filesFailed: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0 };
    for (const s of listShards(store, params.planId)) {
      p.filesDone += s.filesDone;
      p.filesFailed += s.filesFailed;
      p.filesTotal += s.filesTotal;
      p.bytesDone += s.bytesDone;
      p.bytesTotal += s.bytesTotal;
    }
    return p;
  } finally {
    store.close();
  }
}

export interface RunLocalParams {
  /** Worker processes (`-j`); task ids 0..workers-1. */
  workers: number;
  planId: number;
  dbPath: string;
  root: string;
  hubUrl: string;
  /** The hfhpc entry script (`packages/cli/dist/bin.js`). */
  cliPath: string;
  /** Default `process.execPath`. */
  node?: string;
  /** More `hfhpc work` arguments (`--concurrency 4`, `--lease-ttl 60`, log options). */
  workArgs?: string[];
  /** Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Default spawnChild. */
  spawnTask?: SpawnTask;
  /** Default: watch SIGTERM/SIGINT/SIGUSR1 and forward them to every task. */
  signals?: SignalWatch;
  log?: Logger;
  /** Where the final summary goes. Default stdout. */
  print?: (line: string) => void;
  /**
   * A live view (a progress bar): the workers' stderr goes to `view.log`, their `Progress:`
   * lines are dropped, and `view.update` gets the plan's totals every `progressMs`. Default
   * none: the workers write to this stderr (plain lines).
   */
  view?: LocalProgressView;
  /** Default 1,000 ms. */
  progressMs?: number;
}

export interface RunLocalResult {
  exitCodes: number[];
  summary: PlanSummary;
  /** 0 all done; 75 interrupted; 1 otherwise. */
  exitCode: number;
}

/**
 * `hfhpc run --local`: the job array on one machine. Starts `workers` `hfhpc work` processes
 * on an existing plan, forwards stop signals to them, waits, prints the plan's final status.
 */
export async function runLocal(params: RunLocalParams): Promise<RunLocalResult> {
  const env = params.env ?? process.env;
  const node = params.node ?? process.execPath;
  const spawnTask = params.spawnTask ?? spawnChild;
  const print = params.print ?? ((line: string) => void process.stdout.write(`${escapeControls(line)}\n`));
  const tasks: LocalTask[] = [];
  const view = params.view;
  let ticker: NodeJS.Timeout | undefined;
  const signals =
    params.signals ??
    watchSignals({
      onSignal: (sig) => {
        // Above the bar when one is drawn, so the line is not drawn over.
        if (params.view) params.view.log(`${sig}: stopping ${tasks.length} worker(s)`);
        else params.log?.warn(`${sig}: stopping ${tasks.length} worker(s)`);
        for (const t of tasks) t.kill(sig);
      },
    });
  try {
    for (let i = 0; i < params.workers; i++) {
      const args = [
        params.cliPath, 'work',
        '--task-id', String(i), '--plan-id', String(params.planId),
        '--db', params.dbPath, '--root', params.root, '--hub-url', params.hubUrl,
        ...(params.workArgs ?? []),
      ];
      tasks.push(spawnTask({ index: i, command: node, args, env, onLine: view && ((line) => PROGRESS_LINE_RE.test(line) || view.log(line)) }));
    }
    params.log?.info(`started ${tasks.length} local worker(s) on plan ${params.planId}`);
    const show = (): void => {
      try {
        view?.update(readLocalProgress({ dbPath: params.dbPath, planId: params.planId }));
      } catch (err) {
        // A busy database skips one redraw; the workers' own errors reach the view as lines.
        params.log?.debug(`progress not read: ${(err as Error).message}`);
      }
    };
    if (view) {
      show();
      ticker = setInterval(show, params.progressMs ?? 1000);
    }
    const exitCodes = await Promise.all(tasks.map((t) => t.exited));
    if (ticker) clearInterval(ticker);
    show();
    view?.stop();
    const store = openStore({ path: params.dbPath, create: false });
    let summary: PlanSummary;
    try {
      summary = summarizePlan({ store, planId: params.planId });
    } finally {
      store.close();
    }
    for (const line of formatPlanSummary(summary)) print(line);
    const interrupted = signals.received() !== undefined || exitCodes.includes(ExitCode.INTERRUPTED);
    const exitCode = interrupted ? ExitCode.INTERRUPTED : summary.complete && exitCodes.every((c) => c === 0) ? ExitCode.OK : ExitCode.FAILED;
    return { exitCodes, summary, exitCode };
  } finally {
    if (ticker) clearInterval(ticker);
    view?.stop();
    signals.dispose();
  }
}

// A worker's periodic line, in text or JSON log format.
const PROGRESS_LINE_RE = /(?:\] |"msg":")Progress: /;
