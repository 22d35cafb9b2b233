// File paths from the Hub are untrusted: a hostile or broken repo could list `../../.bashrc`.
// A path is accepted only if it is already in normal form and, joined under its snapshot
// directory, cannot leave it, whatever the filesystem does with it. Placing files also checks
// that no existing directory on the way is a symlink pointing elsewhere.
import { lstat, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { UnsafePathError } from './errors.js';

/** Longest path we accept, in UTF-8 bytes (Linux PATH_MAX). */
export const MAX_PATH_BYTES = 4096;
/** Longest single segment, in UTF-8 bytes (NAME_MAX on Linux filesystems). */
export const MAX_SEGMENT_BYTES = 255;

export interface PathContext {
  /** The repo the path came from, for the error message. */
  repo?: string;
}

// C0 controls (NUL included), DEL and C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;
// Halves of a surrogate pair on their own cannot be encoded as a file name.
const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function segmentProblem(seg: string): string | undefined {
  if (seg === '') return 'it has an empty segment ("//", or a leading or trailing "/")';
  if (seg === '.' || seg === '..') return `it has a "${seg}" segment`;
  if (Buffer.byteLength(seg) > MAX_SEGMENT_BYTES) return `a segment is longer than ${MAX_SEGMENT_BYTES} bytes`;
  // Compatibility forms (fullwidth dots and slashes) that some tools fold to "." and "/".
  const folded = seg.normalize('NFKC');
  if (folded === '.' || folded === '..' || /[/\\]/.test(folded)) return 'a segment folds to "/", "\\", "." or ".." under Unicode normalization';
  return undefined;
}

/** Why `p` is not a safe repo-relative path, or undefined when it is. */
export function repoPathProblem(p: unknown): string | undefined {
  if (typeof p !== 'string') return `expected a string, got ${typeof p}`;
  if (p === '') return 'it is empty';
  if (CONTROL_RE.test(p)) return 'it contains NUL or a control character';
  if (LONE_SURROGATE_RE.test(p)) return 'it is not valid Unicode';
  if (p.includes('\\')) return 'it contains a backslash';
  if (p.startsWith('/')) return 'it is absolute';
  if (/^[A-Za-z]:/.test(p)) return 'it starts with a drive prefix';
  if (Buffer.byteLength(p) > MAX_PATH_BYTES) return `it is longer than ${MAX_PATH_BYTES} bytes`;
  for (const seg of p.split('/')) {
    const problem = segmentProblem(seg);
    if (problem) return problem;
  }
  return undefined;
}

function unsafe(p: unknown, why: string, ctx: PathContext): never {
  const shown = typeof p === 'string' ? JSON.stringify(p) : String(p);
  const where = ctx.repo ? ` in ${ctx.repo}` : '';
  throw new UnsafePathError(`unsafe path ${shown}${where}: ${why}`, {
    hint: 'hfhpc never writes outside its root; report the path to the repo owners or exclude it in the manifest',
    context: { repo: ctx.repo, path: p },
  });
}

/**
 * Accept a repo file path from the Hub only if it stays inside its snapshot directory: no
 * `..`/`.`/empty segments, not absolute, no backslash or drive prefix, no NUL or control
 * characters, not overlong. Returns the path; throws `UnsafePathError` naming repo and path.
 */
export function assertSafeRepoPath(p: string, ctx: PathContext = {}): string {
  const problem = repoPathProblem(p);
  if (problem) unsafe(p, problem, ctx);
  return p;
}

/** `base/rel` for a safe repo path `rel`; throws `UnsafePathError` if the result would leave `base`. */
export function safeJoin(base: string, rel: string, ctx: PathContext = {}): string {
  assertSafeRepoPath(rel, ctx);
  const joined = path.join(base, rel);
  if (!isInside(base, joined)) unsafe(rel, `it leaves ${base}`, ctx);
  return joined;
}

/** Whether `target` is `base` itself or below it (lexically). */
export function isInside(base: string, target: string): boolean {
  const rel = path.relative(path.resolve(base), path.resolve(target));
  // `..foo` is a name inside base; only a whole `..` segment leaves it.
  return rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Before writing at `target`, check every path component that already exists between `base`
 * and `target` (the target included): none may be a symlink that resolves outside `base`.
 * Components that do not exist yet end the walk. Throws `UnsafePathError`.
 */
export async function assertNoSymlinkEscape(base: string, target: string, ctx: PathContext = {}): Promise<void> {
  const absBase = path.resolve(base);
  const absTarget = path.resolve(target);
  if (!isInside(absBase, absTarget)) unsafe(target, `it is not inside ${absBase}`, ctx);
  const realBase = await realpath(absBase);
  let current = absBase;
  for (const seg of path.relative(absBase, absTarget).split(path.sep).filter(Boolean)) {
    current = path.join(current, seg);
    let st;
    try {
      st = await lstat(current);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    if (!st.isSymbolicLink()) continue;
    let resolved: string;
    try {
      resolved = await realpath(current);
    } catch (err) {
      if (errnoCode(err) === 'ELOOP') unsafe(target, `${current} is a symlink loop`, ctx);
      if (errnoCode(err) !== 'ENOENT') throw err;
      // A dangling link (a snapshot link whose blob is being re-fetched): check where it
      // would lead, following any links on that way too.
      const dest = path.resolve(await realpath(path.dirname(current)), await readlink(current));
      if (!isInside(realBase, dest)) unsafe(target, `${current} is a symlink leading outside ${absBase}`, ctx);
      await assertNoSymlinkEscape(realBase, dest, ctx);
      resolved = dest;
    }
    if (!isInside(realBase, resolved)) unsafe(target, `${current} is a symlink leading outside ${absBase}`, ctx);
  }
}
