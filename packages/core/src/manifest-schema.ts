// Step 1 of manifest validation: shape. Every key must be known (a typo must not silently
// pass) and every value of the expected type; what passes is returned typed, what fails is
// reported and left out, so later steps can still check the rest.
import { ProblemList, closestKey, describeValue, type FieldPath } from './manifest-problems.js';

/** string: a string; int: an integer; scalar: a string or a number; list: a string or a list of strings. */
type Kind = 'string' | 'int' | 'scalar' | 'list';
type Scalar = string | number;

const TOP_KEYS = ['allow_prefixes', 'root', 'datasets', 'shards', 'shard_size', 'max_parallel', 'max_files_per_shard', 'allow_symlinked_dirs', 'slurm'] as const;
const TOP: Record<string, Kind> = { allow_prefixes: 'list', root: 'string', shards: 'int', shard_size: 'scalar', max_parallel: 'int', max_files_per_shard: 'int', allow_symlinked_dirs: 'list' };
const DATASET: Record<string, Kind> = { repo: 'string', revision: 'string', include: 'list', exclude: 'list' };
const SLURM: Record<string, Kind> = {
  job_name: 'string',
  partition: 'string',
  account: 'string',
  qos: 'string',
  time: 'scalar',
  mem: 'scalar',
  cpus_per_task: 'int',
  mail_user: 'string',
  mail_type: 'list',
  signal_seconds: 'int',
  requeue_max: 'int',
  output_dir: 'string',
  extra: 'list',
};

export interface RawDataset {
  repo?: string;
  revision?: string;
  include?: string[];
  exclude?: string[];
}

export interface RawSlurm {
  job_name?: string;
  partition?: string;
  account?: string;
  qos?: string;
  time?: Scalar;
  mem?: Scalar;
  cpus_per_task?: number;
  mail_user?: string;
  mail_type?: string[];
  signal_seconds?: number;
  requeue_max?: number;
  output_dir?: string;
  extra?: string[];
}

export interface RawManifest {
  allow_prefixes?: string[];
  root?: string;
  /** One per entry of the file, `undefined` where an entry has the wrong shape (indexes stay true). */
  datasets?: (RawDataset | undefined)[];
  shards?: number;
  shard_size?: Scalar;
  max_parallel?: number;
  max_files_per_shard?: number;
  allow_symlinked_dirs?: string[];
  slurm?: RawSlurm;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function checkValue(v: unknown, kind: Kind, at: FieldPath, problems: ProblemList): unknown {
  const wrong = (expected: string): undefined => {
    problems.add(at, `expected ${expected}, got ${describeValue(v)}`);
    return undefined;
  };
  switch (kind) {
    case 'string':
      return typeof v === 'string' ? v : wrong('a string');
    case 'int':
      return typeof v === 'number' && Number.isInteger(v) ? v : wrong('a whole number');
    case 'scalar':
      return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) ? v : wrong('a string or a number');
    case 'list': {
      if (typeof v === 'string') return [v];
      if (!Array.isArray(v)) return wrong('a list of strings');
      const bad = v.findIndex((x) => typeof x !== 'string');
      if (bad >= 0) {
        problems.add([...at, bad], `expected a string, got ${describeValue(v[bad])}`);
        return undefined;
      }
      return v;
    }
  }
}

function checkMapping(obj: Record<string, unknown>, spec: Record<string, Kind>, known: readonly string[], at: FieldPath, problems: ProblemList): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    if (!known.includes(key)) {
      const guess = closestKey(key, known);
      problems.add([...at, key], `unknown field${guess ? ` (did you mean "${guess}"?)` : `; known fields: ${known.join(', ')}`}`);
      continue;
    }
    const kind = spec[key];
    // `key: ` with nothing after it reads as null: treat it as absent rather than a type error.
    if (kind === undefined || value === null) continue;
    const checked = checkValue(value, kind, [...at, key], problems);
    if (checked !== undefined) out[key] = checked;
  }
  return out;
}

function checkDataset(entry: unknown, at: FieldPath, problems: ProblemList): RawDataset | undefined {
  // `- bigcode/the-stack` is shorthand for `- repo: bigcode/the-stack`.
  if (typeof entry === 'string') return { repo: entry };
  if (!isMapping(entry)) {
    problems.add(at, `expected a mapping with a repo, got ${describeValue(entry)}`);
    return undefined;
  }
  const out = checkMapping(entry, DATASET, Object.keys(DATASET), at, problems) as RawDataset;
  if (entry.repo === undefined || entry.repo === null) problems.add([...at, 'repo'], 'missing (every dataset needs repo: org/name)');
  return out;
}

/** Check the shape of a parsed manifest; problems go to `problems`, the well-typed part is returned. */
export function checkManifestSchema(raw: unknown, problems: ProblemList): RawManifest {
  if (!isMapping(raw)) {
    problems.add([], `expected a mapping with a datasets list, got ${describeValue(raw)}`);
    return {};
  }
  const out = checkMapping(raw, TOP, TOP_KEYS, [], problems) as RawManifest;
  if (raw.datasets === undefined || raw.datasets === null) {
    problems.add(['datasets'], 'missing (list the datasets to download)');
  } else if (!Array.isArray(raw.datasets)) {
    problems.add(['datasets'], `expected a list, got ${describeValue(raw.datasets)}`);
  } else {
    out.datasets = raw.datasets.map((entry, i) => checkDataset(entry, ['datasets', i], problems));
  }
  if (raw.slurm !== undefined && raw.slurm !== null) {
    if (isMapping(raw.slurm)) out.slurm = checkMapping(raw.slurm, SLURM, Object.keys(SLURM), ['slurm'], problems);
    else problems.add(['slurm'], `expected a mapping, got ${describeValue(raw.slurm)}`);
  }
  return out;
}
