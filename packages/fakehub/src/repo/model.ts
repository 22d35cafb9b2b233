// fakehub's in-memory repos: commits hold full file maps; unchanged files share one node.
import type { ContentSource } from '../content/content-source.js';

export interface FileNode {
  path: string;
  source: ContentSource;
  size: number;
  lfs: boolean;
  /** A text file the Hub would gzip when the client allows it. */
  compressible: boolean;
  /** sha of the commit that last added or changed it. */
  lastCommit: string;
}

export interface Commit {
  sha: string;
  parent: string | null;
  branch: string;
  title: string;
  date: string;
  /** Position in the repo's history (0 = first). */
  index: number;
  files: Map<string, FileNode>;
}

export interface Repo {
  id: string;
  gated: false | 'auto' | 'manual';
  private: boolean;
  defaultBranch: string;
  renamedFrom: string[];
  commits: Map<string, Commit>;
  history: Commit[];
  branches: Map<string, string>;
}
