import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManifestError, UsageError } from '../src/errors.js';
import { loadManifest, parseManifest } from '../src/manifest.js';

const DATASETS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../datasets');
const opts = { env: { SCRATCH: '/scratch/u' }, homedir: '/home/u' };

/** The problems a manifest text is rejected with. */
function problemsOf(text: string, file = '/m/manifest.yaml'): string[] {
  try {
    parseManifest(text, file, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestError);
    expect((err as ManifestError).exitCode).toBe(2);
    expect((err as ManifestError).message).toContain(file);
    return (err as ManifestError).problems;
  }
  throw new Error('manifest was accepted');
}

describe('parseManifest: valid manifests', () => {
  const yaml = `
allow_prefixes: [bigcode/, codeparrot/]
root: ./hub
datasets:
  - repo: bigcode/the-stack-dedup
    revision: refs/pr/1
    include: ["data/python/**"]
    exclude: "**/*.md"
  - codeparrot/github-code-clean
shard_size: 1.5TiB
max_parallel: 8
max_files_per_shard: 500
slurm:
  job_name: hf
  partition: gpu,cpu
  account: proj-42
  qos: normal
  time: 90
  mem: 16G
  cpus_per_task: 4
  mail_user: me@example.org
  mail_type: [end, "fail"]
  signal_seconds: 300
  requeue_max: 3
  output_dir: $SCRATCH/logs
  extra: ["--constraint=ib", "#SBATCH --exclusive"]
`;

  it('normalizes every field', () => {
    const m = parseManifest(yaml, '/proj/manifests/m.yaml', opts);
    expect(m).toEqual({
      path: '/proj/manifests/m.yaml',
      sha256: createHash('sha256').update(yaml).digest('hex'),
      allowPrefixes: ['bigcode/', 'codeparrot/'],
      allowSymlinkedDirs: [],
      root: '/proj/manifests/hub',
      datasets: [
        { repo: 'bigcode/the-stack-dedup', revision: 'refs/pr/1', include: ['data/python/**'], exclude: ['**/*.md'] },
        { repo: 'codeparrot/github-code-clean', revision: 'main', include: [], exclude: [] },
      ],
      shardSize: 1.5 * 1024 ** 4,
      maxParallel: 8,
      maxFilesPerShard: 500,
      slurm: {
        jobName: 'hf',
        partition: 'gpu,cpu',
        account: 'proj-42',
        qos: 'normal',
        time: '90',
        mem: '16G',
        cpusPerTask: 4,
        mailUser: 'me@example.org',
        mailType: 'END,FAIL',
        signalSeconds: 300,
        requeueMax: 3,
        outputDir: '/scratch/u/logs',
        extra: ['#SBATCH --constraint=ib', '#SBATCH --exclusive'],
      },
    });
  });

  it('reads the same manifest from JSON, by extension or by content', () => {
    const json = JSON.stringify({
      root: '~/hf',
      datasets: [{ repo: 'bigcode/x', include: ['a/**'] }],
      shards: 10,
    });
    const a = parseManifest(json, '/m/x.json', opts);
    const b = parseManifest(json, '/m/x.txt', opts);
    const c = parseManifest('root: ~/hf\ndatasets: [{repo: bigcode/x, include: [a/**]}]\nshards: 10\n', '/m/x.yaml', opts);
    for (const m of [a, b, c]) {
      expect(m).toMatchObject({ root: '/home/u/hf', shards: 10, datasets: [{ repo: 'bigcode/x', revision: 'main', include: ['a/**'], exclude: [] }] });
    }
    expect(a.allowPrefixes).toEqual(['bigcode/', 'codeparrot/', 'oscar-corpus/', 'iohadrubin/']);
    expect(a.slurm).toEqual({ extra: [] });
    expect(a.root).toBeDefined();
    expect(parseManifest('datasets: [bigcode/x]', '/m/y.yaml', opts).root).toBeUndefined();
  });

  it('allow_symlinked_dirs: the cache folders that may be symlinks, a single name or a list, each once', () => {
    expect(parseManifest('datasets: [bigcode/x]\nallow_symlinked_dirs: blobs\n', '/m/m.yaml', opts).allowSymlinkedDirs).toEqual(['blobs']);
    expect(parseManifest('datasets: [bigcode/x]\nallow_symlinked_dirs: [blobs, repo_folder, blobs]\n', '/m/m.yaml', opts).allowSymlinkedDirs).toEqual(['blobs', 'repo_folder']);
    expect(problemsOf('datasets: [bigcode/x]\nallow_symlinked_dirs: [blobs, snapshots]\n')).toEqual([
      'allow_symlinked_dirs[1]: unknown folder "snapshots"; it may list repo_folder, blobs (line 2)',
    ]);
  });

  it('treats an empty value as absent', () => {
    const m = parseManifest('root:\ndatasets:\n  - repo: bigcode/x\n    include:\nslurm:\n', '/m/m.yaml', opts);
    expect(m.root).toBeUndefined();
    expect(m.datasets[0].include).toEqual([]);
  });
});

describe('parseManifest: every problem at once', () => {
  it('collects problems from all three steps, in file order, naming entry, field and line', () => {
    const problems = problemsOf(`allow_prefixes: [bigcode/]
datasets:
  - repo: bigcode/ok
    incldue: ["a/**"]
  - repo: evil/data
    revision: ../../x
  - repo: bigcode/ok
    include: ["/abs/**", "a/../b", 3]
  - {}
  - repo: bigcode/bad--name
shards: 0
shard_size: 12XB
max_parallel: many
slurm:
  time: 1h
  job_name: "x\\n#SBATCH --wrap=evil"
  mail_type: [END, LOUD]
  cpus_per_task: 0
  extra: ["--array=0-9", "echo hi"]
  colour: red
`);
    expect(problems).toEqual([
      'datasets[0] (bigcode/ok).incldue: unknown field (did you mean "include"?) (line 4)',
      'datasets[1] (evil/data).repo: "evil/data" is not allowed: it starts with none of bigcode/; add "evil/" to allow_prefixes if you mean it (line 5)',
      'datasets[1] (evil/data).revision: invalid revision: it has a ".." segment (line 6)',
      'datasets[2] (bigcode/ok).repo: duplicate of datasets[0]; list each repo once (line 7)',
      'datasets[2] (bigcode/ok).include[2]: expected a string, got number 3 (line 8)',
      'datasets[3].repo: missing (every dataset needs repo: org/name) (line 9)',
      'datasets[4] (bigcode/bad--name).repo: the name "bad--name" contains "--" (reserved by the cache layout) (line 10)',
      'shards: must be at least 1 (line 11)',
      'shard_size: invalid size "12XB": expected a number with an optional unit (write e.g. 200GB or 1.5TiB) (line 12)',
      'max_parallel: expected a whole number, got string "many" (line 13)',
      'slurm.time: "1h" is not a Slurm time limit (not one of its forms; use minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS, or UNLIMITED) (line 15)',
      'slurm.job_name: contains a newline or control character (line 16)',
      'slurm.mail_type: "LOUD" is not a Slurm mail type (NONE, BEGIN, END, FAIL, REQUEUE, ALL, INVALID_DEPEND, STAGE_OUT, TIME_LIMIT, TIME_LIMIT_90, TIME_LIMIT_80, TIME_LIMIT_50, ARRAY_TASKS) (line 17)',
      'slurm.cpus_per_task: must be at least 1 (line 18)',
      'slurm.extra[0]: hfhpc sets --array itself; use shards and max_parallel (line 19)',
      'slurm.extra[1]: "#SBATCH echo hi" is not an #SBATCH option line (line 19)',
      'slurm.colour: unknown field; known fields: job_name, partition, account, qos, time, mem, cpus_per_task, mail_user, mail_type, signal_seconds, requeue_max, output_dir, extra (line 20)',
    ]);
  });

  it('reports bad patterns once the types are right', () => {
    expect(problemsOf('datasets:\n  - repo: bigcode/x\n    include: ["/abs/**", "a/../b", "", "a\\u0000b"]\n')).toEqual([
      'datasets[0] (bigcode/x).include[0]: is absolute; patterns match paths inside the repo, e.g. "data/python/**" (line 3)',
      'datasets[0] (bigcode/x).include[1]: contains a ".." segment, which no repo path can have (line 3)',
      'datasets[0] (bigcode/x).include[2]: is empty (line 3)',
      'datasets[0] (bigcode/x).include[3]: contains a control character (line 3)',
    ]);
  });

  it('accepts any non-empty exclude pattern: leaving a hostile path out is always safe', () => {
    expect(problemsOf('datasets:\n  - repo: bigcode/x\n    exclude: ["/abs/**", "../../etc/passwd", "a\\u202eb\\u0000", ""]\n')).toEqual([
      'datasets[0] (bigcode/x).exclude[3]: is empty (line 3)',
    ]);
  });

  it.each([
    ['an unknown top-level key, with a suggestion', 'datasets: [bigcode/x]\nmax-parallel: 3\n', 'max-parallel: unknown field (did you mean "max_parallel"?) (line 2)'],
    ['max_files_per_shard below 1', 'datasets: [bigcode/x]\nmax_files_per_shard: 0\n', 'max_files_per_shard: must be at least 1 (line 2)'],
    ['shards and shard_size together', 'datasets: [bigcode/x]\nshards: 4\nshard_size: 1TB\n', 'shard_size: give either shards or shard_size, not both (line 3)'],
    ['duplicate repos differing in case', 'datasets: [bigcode/x, BigCode/X]\nallow_prefixes: [bigcode/, BigCode/]\n', 'datasets[1] (BigCode/X).repo: duplicate of datasets[0]; list each repo once (line 1)'],
    ['an empty datasets list', 'datasets: []\n', 'datasets: is empty (list at least one dataset) (line 1)'],
    ['a missing datasets list', 'root: /r\n', 'datasets: missing (list the datasets to download)'],
    ['datasets that is not a list', 'datasets: bigcode/x\n', 'datasets: expected a list, got string "bigcode/x" (line 1)'],
    ['an empty allow-list', 'allow_prefixes: []\ndatasets: [bigcode/x]\n', 'allow_prefixes: is empty, so no repo could be downloaded; leave it out for the default (line 1)'],
    ['an allow prefix without a whole org', 'allow_prefixes: [big]\ndatasets: [bigcode/x]\n', 'allow_prefixes[0]: "big" must name a whole org followed by "/", e.g. "big/" (line 1)'],
    ['a root using an unset variable', 'root: $NOPE/hf\ndatasets: [bigcode/x]\n', 'root: uses $NOPE, which is not set (line 1)'],
    ['a top level that is a list', '- bigcode/x\n', '(top level): expected a mapping with a datasets list, got a list'],
    ['an empty file', '', '(top level): expected a mapping with a datasets list, got nothing'],
    ['a slurm block that is a string', 'datasets: [bigcode/x]\nslurm: fast\n', 'slurm: expected a mapping, got string "fast" (line 2)'],
    ['a bad memory size', 'datasets: [bigcode/x]\nslurm: {mem: 16GB}\n', 'slurm.mem: "16GB" is not a Slurm memory size (e.g. 4000, 16G, 1T) (line 2)'],
    ['a signal beyond Slurm\'s limit', 'datasets: [bigcode/x]\nslurm: {signal_seconds: 70000}\n', 'slurm.signal_seconds: must be between 1 and 65535 (line 2)'],
  ])('%s', (_what, text, problem) => {
    expect(problemsOf(text)).toEqual([problem]);
  });

  it('reports YAML syntax errors and duplicate keys with their line', () => {
    expect(problemsOf('datasets:\n  - repo: [unclosed\n')[0]).toMatch(/^not valid YAML \(line \d\)/);
    expect(problemsOf('datasets: [bigcode/x]\nroot: /a\nroot: /b\n')).toEqual([expect.stringMatching(/^not valid YAML \(line 3\).*[Uu]nique/)]);
  });

  it('reports JSON syntax errors', () => {
    expect(problemsOf('{"datasets": [,]}', '/m/m.json')[0]).toMatch(/^not valid JSON/);
    expect(problemsOf('{"datasets": ["bigcode/x"],\n "root": "/a",\n "root": "/b"}', '/m/m.json')).toEqual(['duplicate key (line 3)']);
  });

  it('refuses a YAML alias bomb instead of expanding it', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 8; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    lines.push('datasets: [bigcode/x]');
    expect(problemsOf(lines.join('\n'))[0]).toMatch(/^not valid YAML/);
  });
});

describe('loadManifest', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'hfhpc-manifest-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('reads a file and resolves a relative root against its folder', async () => {
    const file = path.join(tmp, 'm.yaml');
    await writeFile(file, 'root: ../downloads\ndatasets: [iohadrubin/wikitext-103-raw-v1]\n');
    const m = await loadManifest(file);
    expect(m.path).toBe(file);
    expect(m.root).toBe(path.resolve(tmp, '../downloads'));
  });

  it('names the file in a ManifestError', async () => {
    const file = path.join(tmp, 'bad.json');
    await writeFile(file, JSON.stringify({ datasets: [{ repo: 'evil/x' }] }));
    await expect(loadManifest(file)).rejects.toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: datasets\\[0\\] \\(evil/x\\)\\.repo`));
  });

  it('turns a missing file into a UsageError', async () => {
    await expect(loadManifest(path.join(tmp, 'nope.yaml'))).rejects.toThrow(UsageError);
    await expect(loadManifest(path.join(tmp, 'nope.yaml'))).rejects.toThrow(/no such file/);
  });

  it.each(['bigcode.yaml', 'codeparrot.yaml', 'oscar-corpus.yaml', 'iohadrubin.yaml'])('accepts the example datasets/%s', async (name) => {
    const m = await loadManifest(path.join(DATASETS_DIR, name));
    expect(m.datasets.length).toBeGreaterThan(0);
    for (const d of m.datasets) expect(m.allowPrefixes.some((p) => d.repo.startsWith(p))).toBe(true);
  });

  it('keeps the seed collections in the examples', async () => {
    const repos = [];
    for (const name of ['bigcode.yaml', 'codeparrot.yaml', 'oscar-corpus.yaml', 'iohadrubin.yaml']) {
      repos.push(...(await loadManifest(path.join(DATASETS_DIR, name))).datasets);
    }
    expect(repos.find((d) => d.repo === 'bigcode/the-stack-dedup')?.include).toEqual(['data/python/**']);
    expect(repos.map((d) => d.repo)).toEqual(expect.arrayContaining(['codeparrot/github-code-clean', 'oscar-corpus/OSCAR-2301']));
    expect(repos.some((d) => d.repo.startsWith('iohadrubin/'))).toBe(true);
  });
});
