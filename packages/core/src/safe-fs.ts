// Containment under the download root: hfhpc never writes through a symlink it did not make.
// Two tools. `CacheDirs` makes and checks the folders on the way to what it writes (repo folder,
// blobs/, snapshots/…, refs/, trees/, _hfhpc/…) one level at a time with lstat, so a planted
// link at any of them is refused instead of followed (a recursive mkdir follows links on the
// way); each folder is checked once per CacheDirs (one shard run), since every metadata call is
// a round trip on a parallel filesystem. The file helpers open with O_NOFOLLOW and create with
// O_EXCL, so a link planted at the file's own name is refused by the kernel, not followed.
// The root itself and the folders above it are the operator's: they may be links.
import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, readlink, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { UnsafeCacheError, UnsafePathError } from './errors.js';
import { isInside } from './path-safety.js';

/** Cache folders an operator may keep as symlinks on purpose (manifest `allow_symlinked_dirs`). */
export const SYMLINKABLE_DIRS = ['repo_folder', 'blobs'] as const;
export type SymlinkableDir = (typeof SYMLINKABLE_DIRS)[number];

export interface CacheDirsOptions {
  /** Folders that may be symlinks to a folder elsewhere (another filesystem). Default none. */
  allowSymlinkedDirs?: readonly SymlinkableDir[];
}

const REPO_FOLDER_RE = /^(datasets|models|spaces)--/;

/** Which opt-in covers the folder at `rel` (segments below the root), if any. */
function symlinkableKind(rel: readonly string[]): SymlinkableDir | undefined {
  if (!REPO_FOLDER_RE.test(rel[0] ?? '')) return undefined;
  if (rel.length === 1) return 'repo_folder';
  if (rel.length === 2 && rel[1] === 'blobs') return 'blobs';
  return undefined;
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

async function linkText(p: string): Promise<string> {
  return readlink(p).catch(() => '?');
}

/** The error for a symlink hfhpc did not make, naming it, where it leads, and the fix. */
export async function symlinkRefused(p: string, kind?: SymlinkableDir): Promise<UnsafeCacheError> {
  const to = await linkText(p);
  const optIn = kind ? `; to keep ${kind === 'blobs' ? 'blobs/' : 'a repo folder'} on another filesystem on purpose, add "allow_symlinked_dirs: [${kind}]" to the manifest and plan again` : '';
  return new UnsafeCacheError(`refusing ${p}: it is a symlink (to ${to}) that hfhpc did not create; nothing was written through it`, {
    hint: `remove the link (rm ${p}) and run again${optIn}`,
    context: { path: p, target: to, kind },
  });
}

/**
 * The cache folders of one root, made and checked one level at a time. Every folder between the
 * root and the one asked for must be a real directory (lstat), except an opted-in repo folder or
 * `blobs/`, which may be a symlink to a directory. Results are kept: a folder is checked once.
 */
export class CacheDirs {
  readonly root: string;
  private readonly allow: ReadonlySet<SymlinkableDir>;
  private readonly known = new Set<string>();
  private rootMade = false;

  constructor(root: string, options: CacheDirsOptions = {}) {
    this.root = path.resolve(root);
    this.allow = new Set(options.allowSymlinkedDirs ?? []);
  }

  /** Make `dir` and every missing folder between the root and it; throws UnsafeCacheError on a link. */
  async ensure(dir: string): Promise<void> {
    const abs = path.resolve(dir);
    if (this.known.has(abs)) return;
    const segs = this.segments(abs);
    if (!this.rootMade) {
      await mkdir(this.root, { recursive: true });
      this.rootMade = true;
    }
    let current = this.root;
    for (let i = 0; i < segs.length; i++) {
      current = path.join(current, segs[i]);
      if (this.known.has(current)) continue;
      let st = await lstat(current).catch((err: unknown) => {
        if (errnoCode(err) === 'ENOENT') return undefined;
        throw err;
      });
      if (!st) {
        try {
          await mkdir(current); // one level: fails with EEXIST on a link planted meanwhile
          this.known.add(current);
          continue;
        } catch (err) {
          if (errnoCode(err) !== 'EEXIST') throw err;
          st = await lstat(current);
        }
      }
      await this.accept(current, st, segs.slice(0, i + 1));
    }
  }

  /**
   * Check the folders between the root and `dir` that exist, creating nothing: whether `dir`
   * exists (false at the first missing folder); throws UnsafeCacheError on a link.
   */
  async check(dir: string): Promise<boolean> {
    const abs = path.resolve(dir);
    if (this.known.has(abs)) return true;
    const segs = this.segments(abs);
    let current = this.root;
    for (let i = 0; i < segs.length; i++) {
      current = path.join(current, segs[i]);
      if (this.known.has(current)) continue;
      let st: Stats;
      try {
        st = await lstat(current);
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') return false;
        throw err;
      }
      await this.accept(current, st, segs.slice(0, i + 1));
    }
    return true;
  }

  /** How many folders were made or checked so far (each costs metadata calls once). */
  get checked(): number {
    return this.known.size;
  }

  /** `dir` vanished (removed under us): check it and the folders above it again next time. */
  forget(dir: string): void {
    for (let d = path.resolve(dir); d !== this.root && isInside(this.root, d); d = path.dirname(d)) this.known.delete(d);
  }

  private segments(abs: string): string[] {
    if (!isInside(this.root, abs)) {
      throw new UnsafePathError(`${abs} is not inside the root ${this.root}`, { hint: 'this is a bug in hfhpc; please report it', context: { path: abs } });
    }
    return path.relative(this.root, abs).split(path.sep).filter(Boolean);
  }

  private async accept(p: string, st: Stats, rel: readonly string[]): Promise<void> {
    if (st.isDirectory()) {
      this.known.add(p);
      return;
    }
    if (st.isSymbolicLink()) {
      const kind = symlinkableKind(rel);
      if (kind && this.allow.has(kind)) {
        if ((await stat(p).catch(() => undefined))?.isDirectory()) {
          this.known.add(p);
          return;
        }
        throw new UnsafeCacheError(`${p} is a symlink (to ${await linkText(p)}) that does not lead to a folder`, {
          hint: `point it at an existing folder (allow_symlinked_dirs lets ${kind} be a link), or remove it`,
          context: { path: p },
        });
      }
      throw await symlinkRefused(p, kind);
    }
    throw new UnsafeCacheError(`${p} is not a folder; hfhpc keeps its cache folders there`, { hint: `move it out of the root (mv ${p} …) and run again`, context: { path: p } });
  }
}

/**
 * Create a new file for writing, never through a symlink (O_CREAT|O_EXCL|O_NOFOLLOW). Fails
 * with EEXIST when a file or folder already has the name, and with UnsafeCacheError when a
 * symlink does.
 */
export async function createExclusive(file: string, mode = 0o666): Promise<FileHandle> {
  try {
    return await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  } catch (err) {
    if (errnoCode(err) === 'EEXIST' && (await lstat(file).catch(() => undefined))?.isSymbolicLink()) throw await symlinkRefused(file);
    throw err;
  }
}

/**
 * Open an existing (or, with O_CREAT in `flags`, a new) file without following a symlink at its
 * name: O_NOFOLLOW is added, and a link there is an UnsafeCacheError (the kernel's ELOOP).
 */
export async function openNoFollow(file: string, flags: number, mode = 0o666): Promise<FileHandle> {
  try {
    return await open(file, flags | constants.O_NOFOLLOW, mode);
  } catch (err) {
    if (errnoCode(err) === 'ELOOP' && (await lstat(file).catch(() => undefined))?.isSymbolicLink()) throw await symlinkRefused(file);
    throw err;
  }
}

/** Write `content` into a new file (createExclusive): never through a link, never over a file. */
export async function writeNewFile(file: string, content: string | Uint8Array, mode = 0o666): Promise<void> {
  const fh = await createExclusive(file, mode);
  try {
    await fh.writeFile(content);
  } finally {
    await fh.close();
  }
}

/**
 * lstat an entry hfhpc owns (a blob, a partial): its Stats, or undefined when there is none.
 * A symlink there is not ours: UnsafeCacheError, and nothing reads or writes through it.
 */
export async function lstatOwnFile(file: string): Promise<Stats | undefined> {
  let st: Stats;
  try {
    st = await lstat(file);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  if (st.isSymbolicLink()) throw await symlinkRefused(file);
  return st;
}

/** The opt-in a plan carries (`options.allowSymlinkedDirs`, from the manifest), unknown names dropped. */
export function planSymlinkAllowance(options: Record<string, unknown> | undefined): SymlinkableDir[] {
  const v = options?.allowSymlinkedDirs;
  return Array.isArray(v) ? v.filter((d): d is SymlinkableDir => (SYMLINKABLE_DIRS as readonly unknown[]).includes(d)) : [];
}
