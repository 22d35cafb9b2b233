// Step 3 of manifest validation: rules across fields. Repo ids against the allow-list,
// duplicates, patterns that could never match a safe path, numbers out of range, and Slurm
// values that would break or inject lines into the rendered batch script.
import { allowPrefixProblem, isAllowedRepo, repoIdProblem } from './allow-list.js';
import { revisionProblem } from './cache-layout.js';
import { slurmTimeProblem } from './slurm-time.js';
import type { ProblemList } from './manifest-problems.js';
import type { RawManifest } from './manifest-schema.js';
import type { NormalizedManifest } from './manifest-normalize.js';
import { SYMLINKABLE_DIRS } from './safe-fs.js';

// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;
const SLURM_NAME_RE = /^[A-Za-z0-9_.,+-]+$/;
const SLURM_MEM_RE = /^\d+[KMGT]?$/i;
const MAIL_TYPES = new Set([
  'NONE', 'BEGIN', 'END', 'FAIL', 'REQUEUE', 'ALL', 'INVALID_DEPEND', 'STAGE_OUT',
  'TIME_LIMIT', 'TIME_LIMIT_90', 'TIME_LIMIT_80', 'TIME_LIMIT_50', 'ARRAY_TASKS',
]);

// An include pattern selects what is written, so it must be able to match a safe path only. An
// exclude pattern can only leave files out, so any text is safe there: it may name a hostile
// path exactly (`../../etc/passwd`, a name with a control character) to plan the rest.
function patternProblem(p: string, field: 'include' | 'exclude'): string | undefined {
  if (p.trim() === '') return 'is empty';
  if (field === 'exclude') return undefined;
  if (CONTROL_RE.test(p)) return 'contains a control character';
  if (p.startsWith('/')) return 'is absolute; patterns match paths inside the repo, e.g. "data/python/**"';
  if (p.split('/').includes('..')) return 'contains a ".." segment, which no repo path can have';
  return undefined;
}

function checkDatasets(raw: RawManifest, n: NormalizedManifest, problems: ProblemList): void {
  const { manifest, sourceIndex } = n;
  if (raw.datasets && raw.datasets.length === 0) problems.add(['datasets'], 'is empty (list at least one dataset)');
  const seen = new Map<string, number>();
  manifest.datasets.forEach((d, k) => {
    const at = ['datasets', sourceIndex[k]];
    const idProblem = repoIdProblem(d.repo);
    if (idProblem) {
      problems.add([...at, 'repo'], idProblem);
    } else if (manifest.allowPrefixes.length > 0 && !isAllowedRepo(d.repo, manifest.allowPrefixes)) {
      // (An empty allow-list is reported once, on allow_prefixes.)
      problems.add([...at, 'repo'], `"${d.repo}" is not allowed: it starts with none of ${manifest.allowPrefixes.join(', ')}; add "${d.repo.split('/')[0]}/" to allow_prefixes if you mean it`);
    }
    const first = seen.get(d.repo.toLowerCase());
    if (first !== undefined) problems.add([...at, 'repo'], `duplicate of datasets[${first}]; list each repo once`);
    else seen.set(d.repo.toLowerCase(), sourceIndex[k]);
    const revProblem = revisionProblem(d.revision);
    if (revProblem) problems.add([...at, 'revision'], `invalid revision: ${revProblem}`);
    for (const field of ['include', 'exclude'] as const) {
      d[field].forEach((p, j) => {
        const problem = patternProblem(p, field);
        if (problem) problems.add([...at, field, j], problem);
      });
    }
  });
}

function checkSlurm(n: NormalizedManifest, problems: ProblemList): void {
  const s = n.manifest.slurm;
  const at = (field: string): string[] => ['slurm', field];
  // A newline in any value would start a new line in the batch script.
  for (const [field, value] of [['job_name', s.jobName], ['mail_user', s.mailUser], ['output_dir', s.outputDir]] as const) {
    if (value !== undefined && CONTROL_RE.test(value)) problems.add(at(field), 'contains a newline or control character');
  }
  for (const [field, value] of [['partition', s.partition], ['account', s.account], ['qos', s.qos]] as const) {
    if (value !== undefined && !SLURM_NAME_RE.test(value)) problems.add(at(field), `"${value}" is not a Slurm name (letters, digits, "_", ".", "-"; several separated by ",")`);
  }
  const timeProblem = s.time === undefined ? undefined : slurmTimeProblem(s.time);
  if (timeProblem) problems.add(at('time'), timeProblem);
  if (s.mem !== undefined && !SLURM_MEM_RE.test(s.mem)) problems.add(at('mem'), `"${s.mem}" is not a Slurm memory size (e.g. 4000, 16G, 1T)`);
  if (s.mailUser !== undefined && /\s/.test(s.mailUser)) problems.add(at('mail_user'), 'contains whitespace');
  for (const t of s.mailType ? s.mailType.split(',') : []) {
    if (!MAIL_TYPES.has(t)) problems.add(at('mail_type'), `"${t}" is not a Slurm mail type (${[...MAIL_TYPES].join(', ')})`);
  }
  if (s.cpusPerTask !== undefined && s.cpusPerTask < 1) problems.add(at('cpus_per_task'), 'must be at least 1');
  if (s.signalSeconds !== undefined && (s.signalSeconds < 1 || s.signalSeconds > 65535)) problems.add(at('signal_seconds'), 'must be between 1 and 65535');
  if (s.requeueMax !== undefined && s.requeueMax < 0) problems.add(at('requeue_max'), 'must be 0 or more');
  s.extra.forEach((line, i) => {
    if (CONTROL_RE.test(line)) problems.add(['slurm', 'extra', i], 'contains a newline or control character');
    else if (!/^#SBATCH\s+-/.test(line)) problems.add(['slurm', 'extra', i], `"${line}" is not an #SBATCH option line`);
    else if (/^#SBATCH\s+(?:--array\b|-a\b)/.test(line)) problems.add(['slurm', 'extra', i], 'hfhpc sets --array itself; use shards and max_parallel');
  });
}

/** Cross-field rules over the normalized manifest; every violation goes to `problems`. */
export function checkManifestRules(raw: RawManifest, n: NormalizedManifest, problems: ProblemList): void {
  const m = n.manifest;
  if (raw.allow_prefixes && raw.allow_prefixes.length === 0) problems.add(['allow_prefixes'], 'is empty, so no repo could be downloaded; leave it out for the default');
  (raw.allow_prefixes ?? []).forEach((p, i) => {
    const problem = allowPrefixProblem(p);
    if (problem) problems.add(['allow_prefixes', i], problem);
  });
  checkDatasets(raw, n, problems);
  (raw.allow_symlinked_dirs ?? []).forEach((d, i) => {
    if (!(SYMLINKABLE_DIRS as readonly string[]).includes(d)) problems.add(['allow_symlinked_dirs', i], `unknown folder "${d}"; it may list ${SYMLINKABLE_DIRS.join(', ')}`);
  });
  if (m.shards !== undefined && m.shards < 1) problems.add(['shards'], 'must be at least 1');
  if (m.maxParallel !== undefined && m.maxParallel < 1) problems.add(['max_parallel'], 'must be at least 1');
  if (m.maxFilesPerShard !== undefined && m.maxFilesPerShard < 1) problems.add(['max_files_per_shard'], 'must be at least 1');
  if (m.shardSize !== undefined && m.shardSize < 1) problems.add(['shard_size'], 'must be more than 0 bytes');
  if (m.shards !== undefined && m.shardSize !== undefined) problems.add(['shard_size'], 'give either shards or shard_size, not both');
  checkSlurm(n, problems);
}
