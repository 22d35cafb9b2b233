import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { ExitCode, escapeControls, openStore, type Logger } from '@hfhpc/core';
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
export type SpawnTask = (p: { index: number; command: string; args: string[]; env: NodeJS.ProcessEnv }) => LocalTask;

/** Default: a child process sharing this terminal, so its Progress lines show. */
export const spawnChild: SpawnTask = ({ command, args, env }) => {
  const child = spawn(command, args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<number>((resolve) => {
    child.on('error', () => resolve(ExitCode.FAILED));
    child.on('exit', (code, sig) => resolve(code ?? 128 + (sig ? constants.signals[sig] : 0)));
  });
  return { kill: (sig) => void child.kill(sig), exited };
};

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
  const signals =
    params.signals ??
    watchSignals({
      onSignal: (sig) => {
        params.log?.warn(`${sig}: stopping ${tasks.length} worker(s)`);
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
      tasks.push(spawnTask({ index: i, command: node, args, env }));
    }
    params.log?.info(`started ${tasks.length} local worker(s) on plan ${params.planId}`);
    const exitCodes = await Promise.all(tasks.map((t) => t.exited));
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
    signals.dispose();
  }
}
