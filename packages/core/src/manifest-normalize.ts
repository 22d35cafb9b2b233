// Step 2 of manifest validation: fill defaults and turn what was written into what is meant:
// sizes into bytes, relative paths into absolute ones (against the manifest's folder, with
// `~` and `$VAR` expanded as HPC users write `$SCRATCH/hf`), Slurm fields into renderer form.
import path from 'node:path';
import { DEFAULT_ALLOW_PREFIXES } from './allow-list.js';
import { HfhpcError } from './errors.js';
import type { ProblemList, FieldPath } from './manifest-problems.js';
import type { RawManifest } from './manifest-schema.js';
import type { Manifest, SlurmSettings } from './manifest-types.js';
import { SYMLINKABLE_DIRS, type SymlinkableDir } from './safe-fs.js';
import { parseSize } from './size.js';

export interface NormalizeParams {
  /** Absolute manifest path; relative paths resolve against its folder. */
  file: string;
  env: NodeJS.ProcessEnv;
  homedir: string;
}

/** Expand `~` and `$VAR` / `${VAR}`, then resolve against `baseDir`; unset variables are problems. */
function expandPath(value: string, at: FieldPath, baseDir: string, params: NormalizeParams, problems: ProblemList): string | undefined {
  if (value.trim() === '') {
    problems.add(at, 'is empty');
    return undefined;
  }
  const missing: string[] = [];
  let out = value.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_m, braced?: string, bare?: string) => {
    const name = (braced ?? bare) as string;
    const v = params.env[name];
    if (v === undefined || v === '') missing.push(name);
    return v ?? '';
  });
  if (missing.length) {
    problems.add(at, `uses ${missing.map((n) => `$${n}`).join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not set`);
    return undefined;
  }
  if (out === '~' || out.startsWith('~/')) out = path.join(params.homedir, out.slice(1));
  return path.resolve(baseDir, out);
}

function normalizeSlurm(raw: NonNullable<RawManifest['slurm']>, params: NormalizeParams, problems: ProblemList): SlurmSettings {
  const s: SlurmSettings = { extra: [] };
  s.jobName = raw.job_name;
  s.partition = raw.partition;
  s.account = raw.account;
  s.qos = raw.qos;
  // A bare number is minutes for --time and megabytes for --mem, as in Slurm itself.
  s.time = raw.time === undefined ? undefined : String(raw.time);
  s.mem = raw.mem === undefined ? undefined : String(raw.mem);
  s.cpusPerTask = raw.cpus_per_task;
  s.mailUser = raw.mail_user;
  s.mailType = raw.mail_type?.flatMap((t) => t.split(',')).map((t) => t.trim().toUpperCase()).filter(Boolean).join(',');
  s.signalSeconds = raw.signal_seconds;
  s.requeueMax = raw.requeue_max;
  if (raw.output_dir !== undefined) s.outputDir = expandPath(raw.output_dir, ['slurm', 'output_dir'], path.dirname(params.file), params, problems);
  // `--qos=x` and `#SBATCH --qos=x` both mean the line `#SBATCH --qos=x`.
  s.extra = (raw.extra ?? []).map((line) => (line.trim().startsWith('#SBATCH') ? line.trim() : `#SBATCH ${line.trim()}`));
  for (const key of Object.keys(s) as (keyof SlurmSettings)[]) if (s[key] === undefined) delete s[key];
  return s;
}

export interface NormalizedManifest {
  manifest: Omit<Manifest, 'path' | 'sha256'>;
  /** For each normalized dataset, its index in the file (entries without a repo are dropped). */
  sourceIndex: number[];
}

/** Defaults and conversions; values that cannot be converted are problems and left out. */
export function normalizeManifest(raw: RawManifest, params: NormalizeParams, problems: ProblemList): NormalizedManifest {
  const sourceIndex: number[] = [];
  const m: Omit<Manifest, 'path' | 'sha256'> = {
    allowPrefixes: raw.allow_prefixes ?? [...DEFAULT_ALLOW_PREFIXES],
    datasets: (raw.datasets ?? []).flatMap((d, i) => {
      if (d?.repo === undefined) return [];
      sourceIndex.push(i);
      return [{ repo: d.repo, revision: d.revision ?? 'main', include: d.include ?? [], exclude: d.exclude ?? [] }];
    }),
    // Unknown names are reported by the rules step and left out here.
    allowSymlinkedDirs: [...new Set(raw.allow_symlinked_dirs ?? [])].filter((d): d is SymlinkableDir => (SYMLINKABLE_DIRS as readonly string[]).includes(d)),
    slurm: raw.slurm ? normalizeSlurm(raw.slurm, params, problems) : { extra: [] },
  };
  if (raw.root !== undefined) m.root = expandPath(raw.root, ['root'], path.dirname(params.file), params, problems);
  if (m.root === undefined) delete m.root;
  if (raw.shards !== undefined) m.shards = raw.shards;
  if (raw.max_parallel !== undefined) m.maxParallel = raw.max_parallel;
  if (raw.max_files_per_shard !== undefined) m.maxFilesPerShard = raw.max_files_per_shard;
  if (raw.shard_size !== undefined) {
    try {
      m.shardSize = parseSize(raw.shard_size, { what: 'shard_size' });
    } catch (err) {
      problems.add(['shard_size'], err instanceof HfhpcError ? `${err.message.replace(/^invalid shard_size /, 'invalid size ')} (write e.g. 200GB or 1.5TiB)` : String(err));
    }
  }
  return { manifest: m, sourceIndex };
}
