// Which Hub repos hfhpc may touch. Repo ids come from manifests and the command line, so they
// are untrusted: checked for shape (the Hub's own rules) and against the allow-list before any
// network request is made.
import { NotAllowedError } from './errors.js';

/** The collections hfhpc was built for; a manifest may replace this list. */
export const DEFAULT_ALLOW_PREFIXES: readonly string[] = ['bigcode/', 'codeparrot/', 'oscar-corpus/', 'iohadrubin/'];

/** Longest org or name the Hub accepts (huggingface_hub `validate_repo_id`: 96). */
export const MAX_REPO_PART_LENGTH = 96;

// Starts with a letter or digit, ends with a word character (the Hub's `\b` anchors).
const PART_RE = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?$/;

export interface RepoId {
  org: string;
  name: string;
}

function partProblem(part: string, label: 'org' | 'name'): string | undefined {
  if (part === '') return `the ${label} is empty`;
  if (part.length > MAX_REPO_PART_LENGTH) return `the ${label} is longer than ${MAX_REPO_PART_LENGTH} characters`;
  if (!PART_RE.test(part)) {
    return `the ${label} "${part}" must start with a letter or digit, end with a letter, digit or "_", and contain only letters, digits, ".", "_" and "-"`;
  }
  if (part.includes('--')) return `the ${label} "${part}" contains "--" (reserved by the cache layout)`;
  if (part.includes('..')) return `the ${label} "${part}" contains ".."`;
  if (label === 'name' && part.endsWith('.git')) return `the name "${part}" ends with ".git"`;
  return undefined;
}

/** Why `repo` is not a valid `org/name` repo id, or undefined when it is. */
export function repoIdProblem(repo: unknown): string | undefined {
  if (typeof repo !== 'string') return `expected a repo id "org/name", got ${typeof repo}`;
  const parts = repo.split('/');
  if (parts.length !== 2) return `expected a repo id of the form "org/name", got "${repo}"`;
  return partProblem(parts[0], 'org') ?? partProblem(parts[1], 'name');
}

/**
 * Why `prefix` cannot be an allow-list entry, or undefined when it can. An entry is an org
 * followed by `/` (`bigcode/`), optionally with the start of a name (`bigcode/the-stack`):
 * a bare `big` would also allow `bigevil/`, so the org must be complete.
 */
export function allowPrefixProblem(prefix: unknown): string | undefined {
  if (typeof prefix !== 'string') return `expected a string like "bigcode/", got ${typeof prefix}`;
  const slash = prefix.indexOf('/');
  if (slash < 0) return `"${prefix}" must name a whole org followed by "/", e.g. "${prefix}/"`;
  const org = prefix.slice(0, slash);
  const rest = prefix.slice(slash + 1);
  const orgProblem = partProblem(org, 'org');
  if (orgProblem) return orgProblem;
  if (rest !== '' && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(rest)) {
    return `"${prefix}": after the org only the start of a repo name may follow`;
  }
  return undefined;
}

/** Whether `repo` starts with one of `allowPrefixes` (exact, case-sensitive). */
export function isAllowedRepo(repo: string, allowPrefixes: readonly string[] = DEFAULT_ALLOW_PREFIXES): boolean {
  return allowPrefixes.some((p) => repo.startsWith(p));
}

/**
 * Check a repo id before any network request: it must be `org/name` of safe characters and
 * start with an allowed prefix. Returns its parts; throws `NotAllowedError` (exit 2) otherwise.
 */
export function checkRepoId(repo: string, allowPrefixes: readonly string[] = DEFAULT_ALLOW_PREFIXES): RepoId {
  const problem = repoIdProblem(repo);
  if (problem) {
    throw new NotAllowedError(`invalid repo id ${JSON.stringify(repo)}: ${problem}`, {
      hint: 'write the dataset as "org/name", exactly as on its Hugging Face page',
      context: { repo },
    });
  }
  if (!isAllowedRepo(repo, allowPrefixes)) {
    const list = allowPrefixes.length ? allowPrefixes.join(', ') : '(none)';
    throw new NotAllowedError(`repo "${repo}" is not allowed: it starts with none of the allowed prefixes ${list}`, {
      hint: `add "${repo.split('/')[0]}/" to allow_prefixes in the manifest if you mean to download it`,
      context: { repo, allowPrefixes: [...allowPrefixes] },
    });
  }
  const [org, name] = repo.split('/');
  return { org, name };
}
