// Lookups over the in-memory repos: ids (with renames), revisions, commits, moving branches.
import { FakeHubConfigError } from '../config/config-error.js';
import type { CommitSpec } from '../types.js';
import { applyCommit } from './build-repos.js';
import type { Commit, FileNode, Repo } from './model.js';

export type RepoLookup = { repo: Repo; renamedFrom?: undefined } | { repo: Repo; renamedFrom: string } | undefined;

export class RepoStore {
  private readonly byId = new Map<string, Repo>();
  private readonly oldNames = new Map<string, Repo>();

  constructor(readonly repos: Repo[]) {
    for (const r of repos) {
      this.byId.set(r.id, r);
      for (const old of r.renamedFrom) this.oldNames.set(old, r);
    }
  }

  /** The repo by its id, or by an old id (then `renamedFrom` is set: answer with a redirect). */
  lookup(id: string): RepoLookup {
    const repo = this.byId.get(id);
    if (repo) return { repo };
    const renamed = this.oldNames.get(id);
    return renamed ? { repo: renamed, renamedFrom: id } : undefined;
  }

  /** The repo by its current id; throws for an unknown id (a test's mistake). */
  get(id: string): Repo {
    const repo = this.byId.get(id);
    if (!repo) throw new Error(`fakehub: no repo ${id}`);
    return repo;
  }

  /** A branch name, `HEAD` (default branch) or a full commit sha → the commit. */
  resolveRevision(repo: Repo, rev: string): Commit | undefined {
    const branch = repo.branches.get(rev === 'HEAD' ? repo.defaultBranch : rev);
    if (branch) return repo.commits.get(branch);
    return /^[0-9a-f]{40}$/.test(rev) ? repo.commits.get(rev) : undefined;
  }

  /**
   * Split decoded path segments into a revision and the rest. The npm client sends revisions
   * such as `refs/pr/1` unencoded in tree URLs, so the shortest prefix that names a revision
   * wins; `revision` is the first segment when none does.
   */
  splitRevision(repo: Repo, segments: string[]): { commit?: Commit; revision: string; rest: string[] } {
    for (let i = 1; i <= segments.length; i++) {
      const revision = segments.slice(0, i).join('/');
      const commit = this.resolveRevision(repo, revision);
      if (commit) return { commit, revision, rest: segments.slice(i) };
    }
    return { revision: segments[0] ?? '', rest: segments.slice(1) };
  }

  /** A file at a revision (default: the default branch). Throws when absent (a test's mistake). */
  file(repoId: string, path: string, revision?: string): FileNode {
    const repo = this.get(repoId);
    const commit = this.resolveRevision(repo, revision ?? repo.defaultBranch);
    if (!commit) throw new Error(`fakehub: ${repoId} has no revision ${revision}`);
    const node = commit.files.get(path);
    if (!node) throw new Error(`fakehub: ${repoId}@${commit.sha} has no file ${path}`);
    return node;
  }

  /** Commit a change on top of `branch` (created from the default branch if new); returns the sha. */
  moveBranch(repoId: string, branch: string, spec: CommitSpec = {}): string {
    const repo = this.get(repoId);
    const problems: string[] = [];
    const commit = applyCommit({ repo, spec: { ...spec, branch }, where: `moveBranch(${repoId}, ${branch})`, problems });
    if (problems.length || !commit) throw new FakeHubConfigError('(moveBranch)', problems);
    return commit.sha;
  }
}
