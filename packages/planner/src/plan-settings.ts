// The knobs of a plan, resolved with this precedence: command line > manifest >
// default. Checked before any network request, so a typo costs nothing.
import { UsageError, parseSize, type Manifest } from '@hfhpc/core';
import type { PlanSlurmSettings } from './render-plan-scripts.js';
import { DEFAULT_MAX_FILES_PER_SHARD } from './shard-cost.js';

/** Target shard size when neither `--shards` nor `--shard-size` (nor the manifest) says. */
export const DEFAULT_SHARD_SIZE = parseSize('200GB');
/** Array tasks running at once when neither `--max-parallel` nor the manifest says. */
export const DEFAULT_MAX_PARALLEL = 32;

export interface PlanSettingsInput {
  /** `--shards N`. */
  shards?: number;
  /** `--shard-size`: bytes, or a size string like `200GB`. */
  shardSize?: number | string;
  /** `--max-parallel K`. */
  maxParallel?: number;
  /** `--max-files-per-shard N`. */
  maxFilesPerShard?: number;
  /** Slurm settings from the command line; each overrides the manifest's `slurm:` entry. */
  slurm?: PlanSlurmSettings;
}

export interface PlanSettings {
  /** Exactly one of shards / shardSize is set. */
  shards?: number;
  shardSize?: number;
  maxParallel: number;
  /** At most this many files per shard. */
  maxFilesPerShard: number;
  slurm: PlanSlurmSettings;
}

export function resolvePlanSettings(input: PlanSettingsInput, manifest: Pick<Manifest, 'shards' | 'shardSize' | 'maxParallel' | 'maxFilesPerShard' | 'slurm'>): PlanSettings {
  if (input.shards !== undefined && input.shardSize !== undefined) {
    throw new UsageError('give either --shards or --shard-size, not both', { hint: '--shards N sets the count, --shard-size the bytes per shard' });
  }
  const cliShardSize = input.shardSize === undefined ? undefined : parseSize(input.shardSize, { what: '--shard-size' });
  let shards: number | undefined;
  let shardSize: number | undefined;
  if (input.shards !== undefined || cliShardSize !== undefined) {
    shards = input.shards;
    shardSize = cliShardSize;
  } else if (manifest.shards !== undefined) {
    shards = manifest.shards;
  } else {
    shardSize = manifest.shardSize ?? DEFAULT_SHARD_SIZE;
  }
  if (shards !== undefined && (!Number.isSafeInteger(shards) || shards < 1)) {
    throw new UsageError(`Expected \`--shards\` to be a whole number ≥ 1, got \`${shards}\``);
  }
  if (shardSize !== undefined && shardSize < 1) {
    throw new UsageError(`Expected \`--shard-size\` to be at least 1 byte, got \`${shardSize}\``, { hint: 'e.g. --shard-size 200GB' });
  }
  const maxParallel = input.maxParallel ?? manifest.maxParallel ?? DEFAULT_MAX_PARALLEL;
  if (!Number.isSafeInteger(maxParallel) || maxParallel < 1) {
    throw new UsageError(`Expected \`--max-parallel\` to be a whole number ≥ 1, got \`${maxParallel}\``);
  }
  const maxFilesPerShard = input.maxFilesPerShard ?? manifest.maxFilesPerShard ?? DEFAULT_MAX_FILES_PER_SHARD;
  if (!Number.isSafeInteger(maxFilesPerShard) || maxFilesPerShard < 1) {
    throw new UsageError(`Expected \`--max-files-per-shard\` to be a whole number ≥ 1, got \`${maxFilesPerShard}\``, { hint: 'e.g. --max-files-per-shard 2000' });
  }
  const overrides = Object.fromEntries(Object.entries(input.slurm ?? {}).filter(([, v]) => v !== undefined));
  return { shards, shardSize, maxParallel, maxFilesPerShard, slurm: { ...manifest.slurm, ...overrides } };
}
