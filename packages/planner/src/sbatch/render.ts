// Batch scripts as pure functions of their parameters (plus the template text): the same
// parameters always give the same bytes, which the golden files in test/golden/ pin.
import { join } from 'node:path';
import { UsageError, redact, type SlurmSettings } from '@hfhpc/core';
import { parseArraySpec } from '@hfhpc/scheduler';
import {
  checkAbsolute, checkInt, checkMailType, checkMailUser, checkMem, checkName, checkTime,
} from './check-values.js';
import { hasControlChars, sbatchQuote, shellQuote } from './quote.js';
import { fillTemplate } from './template.js';

/**
 * What the job asks Slurm for: the manifest's `slurm:` settings (core's `SlurmSettings`), of
 * which `jobName` defaults to `hfhpc` (download) / `hfhpc-verify` (verify), and `extra` takes
 * directives as written: `#SBATCH --constraint=lustre` or `--constraint=lustre`.
 */
export type SbatchResources = Pick<SlurmSettings, 'jobName' | 'partition' | 'account' | 'qos' | 'time' | 'mem' | 'cpusPerTask' | 'mailUser' | 'mailType'> & {
  extra?: readonly string[];
};

export interface RenderSbatchParams extends SbatchResources {
  /** Text of slurm-templates/download-array.sbatch (`readSbatchTemplate`). */
  template: string;
  /** `--array`: `0-(N-1)%K`, or a list like `3,17,42` to re-run chosen shards. */
  arraySpec: string;
  /** Shard index of task 0, exported as `HFHPC_TASK_OFFSET`. Default 0. */
  taskOffset?: number;
  /** Absolute folder for `%A_%a.out` logs; it must exist before sbatch (`writeSbatchScript`). */
  outputDir: string;
  /** `--signal=B:USR1@<s>`: seconds before the time limit to tell the task to stop. Default 300; 0 = none. */
  signalSeconds?: number;
  /** `--requeue`: Slurm may requeue the task (node failure, preemption). Default true. */
  requeue?: boolean;
  /** How often a task requeues itself after the worker exits 75. Default 3; 0 = never. */
  requeueMax?: number;
  /** `--open-mode`: `append` keeps the log of earlier runs of a requeued task. Default `append`. */
  openMode?: 'append' | 'truncate';
  /** argv to run per task; absolute program path first (`workCommand`). */
  command: readonly string[];
}

export interface RenderVerifySbatchParams extends SbatchResources {
  /** Text of slurm-templates/verify.sbatch. */
  template: string;
  /** Absolute folder for the `verify_%j.out` log. */
  outputDir: string;
  /** Default `append`. */
  openMode?: 'append' | 'truncate';
  /** argv to run (`verifyCommand`). */
  command: readonly string[];
}

// Options the renderer writes itself; an `extra` line setting one would silently fight it.
const OWN_OPTIONS: Record<string, string> = {
  '--array': 'arraySpec', '-a': 'arraySpec', '--output': 'outputDir', '-o': 'outputDir',
  '--open-mode': 'openMode', '--signal': 'signalSeconds', '--requeue': 'requeue', '--no-requeue': 'requeue',
  '--job-name': 'jobName', '-J': 'jobName', '--partition': 'partition', '-p': 'partition',
  '--account': 'account', '-A': 'account', '--qos': 'qos', '-q': 'qos', '--time': 'time', '-t': 'time',
  '--mem': 'mem', '--cpus-per-task': 'cpusPerTask', '-c': 'cpusPerTask',
  '--mail-user': 'mailUser', '--mail-type': 'mailType',
};

function extraDirective(line: string): string {
  const body = line.replace(/^#SBATCH\s+/, '').trim();
  if (hasControlChars(body)) throw new UsageError(`extra directive ${JSON.stringify(line)} contains a newline or control character`);
  const name = /^(--[A-Za-z][A-Za-z-]*|-[A-Za-z])(?=$|[=\s])/.exec(body)?.[1];
  if (!name) throw new UsageError(`extra directive ${JSON.stringify(line)} is not an sbatch option (like --constraint=lustre)`);
  const own = OWN_OPTIONS[name];
  if (own) throw new UsageError(`extra directive ${JSON.stringify(line)} sets ${name}, which hfhpc writes itself`, { hint: `use the ${own} setting instead` });
  return body;
}

function resourceDirectives(p: SbatchResources, defaultJobName: string): string[] {
  const d = [`--job-name=${sbatchQuote('jobName', p.jobName ?? defaultJobName)}`];
  if (p.partition !== undefined) d.push(`--partition=${checkName('partition', p.partition)}`);
  if (p.account !== undefined) d.push(`--account=${checkName('account', p.account)}`);
  if (p.qos !== undefined) d.push(`--qos=${checkName('qos', p.qos)}`);
  if (p.time !== undefined) d.push(`--time=${checkTime(p.time)}`);
  if (p.mem !== undefined) d.push(`--mem=${checkMem(p.mem)}`);
  if (p.cpusPerTask !== undefined) d.push(`--cpus-per-task=${checkInt('cpusPerTask', p.cpusPerTask, 1)}`);
  if (p.mailUser !== undefined) d.push(`--mail-user=${sbatchQuote('mailUser', checkMailUser(p.mailUser))}`);
  if (p.mailType !== undefined) d.push(`--mail-type=${checkMailType(p.mailType)}`);
  for (const line of p.extra ?? []) d.push(extraDirective(line));
  return d;
}

function openModeDirective(mode: 'append' | 'truncate' | undefined): string {
  const m = mode ?? 'append';
  if (m !== 'append' && m !== 'truncate') throw new UsageError(`openMode: expected append or truncate, got ${JSON.stringify(m)}`);
  return `--open-mode=${m}`;
}

function sbatchBlock(directives: string[]): string {
  // Sorted by code unit, not locale, so the bytes never depend on the machine.
  return [...directives].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((x) => `#SBATCH ${x}`).join('\n');
}

// `%` starts a Slurm filename pattern (%A, %j…): a folder holding one would be misread.
function checkOutputDir(dir: string): string {
  checkAbsolute('outputDir', dir);
  if (dir.includes('%')) throw new UsageError(`outputDir ${JSON.stringify(dir)} contains "%", which Slurm reads as a filename pattern`);
  return dir;
}

function commandLine(command: readonly string[]): string {
  if (command.length === 0) throw new UsageError('the command to run is empty');
  checkAbsolute('command[0] (the program)', command[0]);
  return command.map(shellQuote).join(' ');
}

// Belt and braces: nothing token-shaped (or registered as a secret) may reach a script file.
function refuseSecrets(script: string): string {
  if (redact(script) !== script) {
    throw new UsageError('refusing to write a batch script that contains a Hugging Face token or credential', {
      hint: 'remove it from the settings; tasks read HF_TOKEN or the token file at run time',
    });
  }
  return script;
}

/** The download array's batch script (see slurm-templates/download-array.sbatch). */
export function renderSbatch(params: RenderSbatchParams): string {
  parseArraySpec(params.arraySpec); // throws on a spec Slurm would refuse
  const outputDir = checkOutputDir(params.outputDir);
  const signalSeconds = checkInt('signalSeconds', params.signalSeconds ?? 300, 0, 65535);
  const directives = [
    `--array=${params.arraySpec}`,
    `--output=${sbatchQuote('outputDir', join(outputDir, '%A_%a.out'))}`,
    openModeDirective(params.openMode),
    ...resourceDirectives(params, 'hfhpc'),
  ];
  if (signalSeconds > 0) directives.push(`--signal=B:USR1@${signalSeconds}`);
  if (params.requeue ?? true) directives.push('--requeue');
  return refuseSecrets(
    fillTemplate(params.template, {
      SBATCH_LINES: sbatchBlock(directives),
      TASK_OFFSET: String(checkInt('taskOffset', params.taskOffset ?? 0, 0)),
      REQUEUE_MAX: String(checkInt('requeueMax', params.requeueMax ?? 3, 0)),
      COMMAND: commandLine(params.command),
    }),
  );
}

/** The verify job's batch script (see slurm-templates/verify.sbatch). */
export function renderVerifySbatch(params: RenderVerifySbatchParams): string {
  const outputDir = checkOutputDir(params.outputDir);
  const directives = [
    `--output=${sbatchQuote('outputDir', join(outputDir, 'verify_%j.out'))}`,
    openModeDirective(params.openMode),
    ...resourceDirectives(params, 'hfhpc-verify'),
  ];
  return refuseSecrets(
    fillTemplate(params.template, {
      SBATCH_LINES: sbatchBlock(directives),
      COMMAND: commandLine(params.command),
    }),
  );
}
