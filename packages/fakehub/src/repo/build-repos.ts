// Config repos → in-memory repos: replays each repo's commits in order on their branches.
import { FakeHubConfigError } from '../config/config-error.js';
import type { CommitSpec, RepoSpec } from '../types.js';
import { deriveCommitSha } from './derive.js';
import { expandFiles } from './expand-files.js';
import type { Commit, Repo } from './model.js';

const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;
const SHA = /^[0-9a-f]{40}$/;
const BASE_DATE = Date.parse('2024-01-01T00:00:00Z');

/** Apply one commit spec to a repo (new head of its branch). Problems are collected, not thrown. */
export function applyCommit(params: { repo: Repo; spec: CommitSpec; where: string; problems: string[] }): Commit | undefined {
  const { repo, spec, where, problems } = params;
  if (!spec || typeof spec !== 'object') {
    problems.push(`${where}: must be an object`);
    return undefined;
  }
  const branch = spec.branch ?? repo.defaultBranch;
  if (typeof branch !== 'string' || branch === '') problems.push(`${where}.branch: must be a non-empty string`);
  const parentSha = repo.branches.get(branch) ?? repo.branches.get(repo.defaultBranch) ?? null;
  const parent = parentSha ? repo.commits.get(parentSha) : undefined;
  const index = repo.history.length;
  let sha = spec.sha;
  if (sha !== undefined && (typeof sha !== 'string' || !SHA.test(sha))) {
    problems.push(`${where}.sha: must be 40 lower-case hex digits`);
    sha = undefined;
  }
  sha ??= deriveCommitSha({ repoId: repo.id, parent: parentSha, index, spec });
  if (repo.commits.has(sha)) problems.push(`${where}.sha: ${sha} already used in ${repo.id}`);
  const date = spec.date ?? new Date(BASE_DATE + index * 3_600_000).toISOString();
  if (Number.isNaN(Date.parse(date))) problems.push(`${where}.date: not an ISO 8601 date`);
  const added = expandFiles({ repoId: repo.id, commitSha: sha, files: spec.files, generate: spec.generate, where, problems });
  const files = new Map(parent?.files);
  if (spec.delete !== undefined && !Array.isArray(spec.delete)) problems.push(`${where}.delete: must be a list of paths`);
  for (const path of Array.isArray(spec.delete) ? spec.delete : []) {
    if (!files.delete(path)) problems.push(`${where}.delete: ${JSON.stringify(path)} is not in the parent commit`);
  }
  for (const node of added) files.set(node.path, node);
  const commit: Commit = {
    sha,
    parent: parentSha,
    branch,
    title: spec.message ?? (index === 0 ? 'Initial commit' : 'Upload files'),
    date: new Date(date).toISOString(),
    index,
    files,
  };
  repo.commits.set(sha, commit);
  repo.history.push(commit);
  repo.branches.set(branch, sha);
  return commit;
}

function buildRepo(spec: RepoSpec, where: string, problems: string[]): Repo | undefined {
  if (!spec || typeof spec !== 'object' || typeof spec.id !== 'string' || !REPO_ID.test(spec.id)) {
    problems.push(`${where}.id: must be "org/name" of letters, digits, ".", "_" or "-"`);
    return undefined;
  }
  if (![undefined, false, 'auto', 'manual'].includes(spec.gated)) problems.push(`${where}.gated: must be false, "auto" or "manual"`);
  if (spec.private !== undefined && typeof spec.private !== 'boolean') problems.push(`${where}.private: must be true or false`);
  const renamed = spec.renamed_from === undefined ? [] : Array.isArray(spec.renamed_from) ? spec.renamed_from : [spec.renamed_from];
  for (const old of renamed) if (typeof old !== 'string' || !REPO_ID.test(old)) problems.push(`${where}.renamed_from: ${JSON.stringify(old)} is not "org/name"`);
  const repo: Repo = {
    id: spec.id,
    gated: spec.gated || false,
    private: spec.private === true,
    defaultBranch: spec.default_branch ?? 'main',
    renamedFrom: renamed,
    commits: new Map(),
    history: [],
    branches: new Map(),
  };
  const commits: CommitSpec[] = [...(spec.commits ?? [])];
  if (spec.files !== undefined || spec.generate !== undefined) commits.unshift({ files: spec.files, generate: spec.generate });
  if (spec.commits !== undefined && !Array.isArray(spec.commits)) problems.push(`${where}.commits: must be a list`);
  if (commits.length === 0) problems.push(`${where}: needs at least one commit (commits:, files: or generate:)`);
  commits.forEach((c, i) => applyCommit({ repo, spec: c, where: `${where}.commits[${i}]`, problems }));
  if (commits.length && !repo.branches.has(repo.defaultBranch)) problems.push(`${where}: no commit on the default branch ${repo.defaultBranch}`);
  return repo;
}

/** Build every repo; throws FakeHubConfigError listing all problems. */
export function buildRepos(params: { specs: RepoSpec[]; source: string }): Repo[] {
  const problems: string[] = [];
  const repos: Repo[] = [];
  const names = new Set<string>();
  params.specs.forEach((spec, i) => {
    const repo = buildRepo(spec, `repos[${i}]`, problems);
    if (!repo) return;
    for (const name of [repo.id, ...repo.renamedFrom]) {
      if (names.has(name)) problems.push(`repos[${i}]: repo id ${name} used twice`);
      names.add(name);
    }
    repos.push(repo);
  });
  if (problems.length) throw new FakeHubConfigError(params.source, problems);
  return repos;
}
