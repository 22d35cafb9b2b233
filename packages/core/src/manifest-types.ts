// The manifest after validation and normalization: what the planner works from.
import type { SymlinkableDir } from './safe-fs.js';

export interface DatasetSpec {
  /** `org/name`, allowed by `allowPrefixes`. */
  repo: string;
  /** Branch, tag or commit; pinned to a commit sha at plan time. Default `main`. */
  revision: string;
  /** Globs selecting files (empty: every file). */
  include: string[];
  /** Globs removing files from the selection. */
  exclude: string[];
}

/** The `slurm:` block, named as the sbatch renderer takes it. All optional except `extra`. */
export interface SlurmSettings {
  jobName?: string;
  partition?: string;
  account?: string;
  qos?: string;
  /** Slurm time limit as written (`90`, `12:00:00`, `2-00:00:00`). */
  time?: string;
  /** Slurm memory (`64G`; a bare number is megabytes). */
  mem?: string;
  cpusPerTask?: number;
  mailUser?: string;
  /** Comma-separated, upper-case: `END,FAIL`. */
  mailType?: string;
  /** Seconds before the time limit at which Slurm sends USR1. */
  signalSeconds?: number;
  /** How often a task may requeue itself after an interruption. */
  requeueMax?: number;
  /** Absolute folder for the array's log files. */
  outputDir?: string;
  /** Raw `#SBATCH …` lines added as written. */
  extra: string[];
}

export interface Manifest {
  /** Absolute path of the manifest file. */
  path: string;
  /** sha256 (hex) of the manifest text, to tell plans of different manifests apart. */
  sha256: string;
  allowPrefixes: string[];
  /** Absolute download root, when the manifest sets one. */
  root?: string;
  datasets: DatasetSpec[];
  shards?: number;
  /** Target bytes per shard. */
  shardSize?: number;
  maxParallel?: number;
  /** At most this many files per shard. */
  maxFilesPerShard?: number;
  /**
   * Cache folders that may be symlinks (to another filesystem) on purpose: `repo_folder`
   * (`datasets--org--name`), `blobs`. Empty: every folder in the root must be a real one.
   */
  allowSymlinkedDirs: SymlinkableDir[];
  slurm: SlurmSettings;
}
