import { fileURLToPath } from 'node:url';
import type { Argv, CommandModule } from 'yargs';
import { UsageError, loadManifest } from '@hfhpc/core';
import { commandLogger, runtimeArgv, runtimeConfig, type ArgsOf, type GlobalArgs } from '../global-options.js';
import { MAX_SECONDS, numberOption } from '../number-option.js';
import { printOut } from '../print-out.js';

const SLURM = 'Slurm options (override the manifest\'s slurm: block):';
const WORK = 'Task options (written into the work command of the scripts):';

const builder = (y: Argv<GlobalArgs>) =>
  y
    .option('manifest', { type: 'string', describe: 'manifest file (YAML or JSON); required unless --resubmit-failed (where its root locates the plan)' })
    .option('shards', numberOption('--shards', { min: 1, max: 10_000_000, integer: true }, { describe: 'number of shards (instead of --shard-size)' }))
    .option('shard-size', { type: 'string', describe: 'bytes per shard, e.g. 200GB [default: the manifest, else 200GB]' })
    .option('max-parallel', numberOption('--max-parallel', { min: 1, max: 100_000, integer: true }, { describe: 'array tasks running at once [default: the manifest, else 32]' }))
    .option('max-files-per-shard', numberOption('--max-files-per-shard', { min: 1, max: 10_000_000, integer: true }, { describe: 'at most this many files per shard [default: the manifest, else 2000]' }))
    .option('job-name', { type: 'string', group: SLURM, describe: '--job-name [default hfhpc]' })
    .option('partition', { type: 'string', group: SLURM, describe: '--partition' })
    .option('account', { type: 'string', group: SLURM, describe: '--account' })
    .option('qos', { type: 'string', group: SLURM, describe: '--qos' })
    .option('time', { type: 'string', group: SLURM, describe: '--time, e.g. 12:00:00' })
    .option('mem', { type: 'string', group: SLURM, describe: '--mem, e.g. 8G' })
    .option('cpus-per-task', numberOption('--cpus-per-task', { min: 1, max: 100_000, integer: true }, { group: SLURM, describe: '--cpus-per-task' }))
    .option('mail-user', { type: 'string', group: SLURM, describe: '--mail-user' })
    .option('mail-type', { type: 'string', group: SLURM, describe: '--mail-type, e.g. END,FAIL' })
    .option('signal-seconds', numberOption('--signal-seconds', { min: 0, max: 65_535, integer: true, unit: 'seconds' }, { group: SLURM, describe: 'USR1 this many seconds before the time limit [default 300]' }))
    .option('requeue-max', numberOption('--requeue-max', { min: 0, max: 1000, integer: true }, { group: SLURM, describe: 'times a task may requeue itself after an interruption [default 3]' }))
    .option('max-array-size', numberOption('--max-array-size', { min: 1, max: 4_000_001, integer: true }, { group: SLURM, describe: 'MaxArraySize when scontrol does not tell [default 1001]' }))
    .option('concurrency', numberOption('--concurrency', { min: 1, max: 1024, integer: true }, { group: WORK, describe: 'files each task downloads at once [default: the task\'s CPUs]' }))
    .option('lease-ttl', numberOption('--lease-ttl', { min: 1, max: MAX_SECONDS, integer: true, unit: 'seconds' }, { group: WORK, describe: 'seconds a dead task keeps its shard before another task takes it over [default 120]' }))
    .option('worker-heap', numberOption('--worker-heap', { min: 32, max: 1_048_576, integer: true, unit: 'MiB' }, { group: WORK, describe: 'V8 heap cap of each task\'s worker in MiB (its old generation); raise it only if a worker dies with "JavaScript heap out of memory" [default 48]' }))
    .option('dry-run', { type: 'boolean', default: false, describe: 'print the plan; write nothing' })
    .option('submit', { type: 'boolean', default: false, describe: 'run sbatch --parsable on the scripts and record the job ids' })
    .option('json', { type: 'boolean', default: false, describe: 'print {plan_id, datasets, files, bytes, shards, scripts, job_ids} on stdout' })
    .option('force', { type: 'boolean', default: false, describe: 'every file back to pending: blobs on disk are hashed again and fetched again unless they match (nothing is trusted); plan even when free space is short' })
    .option('resubmit-failed', { type: 'boolean', default: false, describe: 'send the current plan\'s failed shards back to pending and submit an array of just those' })
    .option('verify-after', { type: 'boolean', default: false, describe: 'with --submit: also submit verify.sbatch to run after the array succeeded (--dependency=afterok)' });
type PlanArgs = ArgsOf<typeof builder>;

/** The Slurm options given on the command line (they override the manifest's `slurm`). */
function slurmOptions(argv: PlanArgs) {
  return {
    jobName: argv['job-name'],
    partition: argv.partition,
    account: argv.account,
    qos: argv.qos,
    time: argv.time,
    mem: argv.mem,
    cpusPerTask: argv['cpus-per-task'],
    mailUser: argv['mail-user'],
    mailType: argv['mail-type'],
    signalSeconds: argv['signal-seconds'],
    requeueMax: argv['requeue-max'],
  };
}

export const command: CommandModule<GlobalArgs, PlanArgs> = {
  command: 'plan',
  describe: 'resolve, pin, list, shard and store a plan; render download.sbatch; --submit runs sbatch',
  builder,
  handler: async (argv) => {
    const globals = runtimeArgv(argv);
    const cfg = runtimeConfig(argv);
    const logger = commandLogger(cfg);
    const { planDownload, planJson, planText, resubmitFailed, resubmitJson, resubmitText, submitVerifyAfter } = await import('@hfhpc/planner');
    const { SlurmScheduler } = await import('@hfhpc/scheduler');
    const common = {
      argv: globals,
      maxParallel: argv['max-parallel'],
      slurm: slurmOptions(argv),
      maxArraySize: argv['max-array-size'],
      work: { concurrency: argv.concurrency, leaseTtlSeconds: argv['lease-ttl'], heapMib: argv['worker-heap'] },
      hfhpcBin: fileURLToPath(new URL('../bin.js', import.meta.url)),
      logger,
    };
    if (argv['verify-after'] && (!argv.submit || argv['dry-run'])) {
      throw new UsageError('--verify-after needs --submit (and no --dry-run)', { hint: 'add --submit: the verify job waits for the submitted array' });
    }
    // plan --verify-after: the verify job follows the array(s) just submitted.
    const verifyAfter = async (o: { planId: number | null; jobIds: string[]; dbPath?: string }): Promise<{ jobId: string; scriptPath: string } | undefined> => {
      if (!argv['verify-after'] || o.planId === null || o.jobIds.length === 0) return undefined;
      return submitVerifyAfter({ scheduler: new SlurmScheduler(), afterJobIds: o.jobIds, planId: o.planId, dbPath: o.dbPath ?? cfg.dbPath, hfhpcBin: common.hfhpcBin });
    };
    const verifyLine = (v: { jobId: string; scriptPath: string } | undefined): string => (v ? `\nverify job ${v.jobId} (${v.scriptPath}) runs after the array succeeded` : '');
    let out: string;
    if (argv['resubmit-failed']) {
      // The manifest, when given, says where the plan lives (its root), as for status and verify.
      const manifest = argv.manifest === undefined ? undefined : await loadManifest(argv.manifest);
      const r = await resubmitFailed({ ...common, manifest, dryRun: argv['dry-run'] });
      const v = await verifyAfter(r);
      out = argv.json ? JSON.stringify({ ...resubmitJson(r), ...(v ? { verify_job_id: v.jobId } : {}) }) : resubmitText(r) + verifyLine(v);
    } else {
      if (!argv.manifest) throw new UsageError('hfhpc plan needs --manifest F', { hint: 'or --resubmit-failed to re-run the current plan\'s failed shards' });
      const r = await planDownload({
        ...common,
        manifestPath: argv.manifest,
        shards: argv.shards,
        shardSize: argv['shard-size'],
        maxFilesPerShard: argv['max-files-per-shard'],
        dryRun: argv['dry-run'],
        force: argv.force,
        submit: argv.submit,
      });
      const v = await verifyAfter({ planId: r.planId, jobIds: r.jobIds, dbPath: r.dbPath });
      out = argv.json ? JSON.stringify({ ...planJson(r), ...(v ? { verify_job_id: v.jobId } : {}) }) : planText(r) + verifyLine(v);
    }
    printOut(`${out}\n`);
  },
};
