// Every error hfhpc raises on purpose. Each carries a stable `code`, the process exit code
// from the command-line contract (README, exit codes), and a hint telling the user what to do. Only the CLI entry turns them into
// an exit; anything else that escapes is an internal error (a bug).
import { escapeControls } from './escape-controls.js';
import { redact } from './secrets.js';

/** Exit codes of the command-line contract (README, exit codes). */
export const ExitCode = {
  /** All work done. */
  OK: 0,
  /** Some work failed; the output names it. */
  FAILED: 1,
  /** Bad input (usage, manifest, allow-list, unsafe path, credentials); nothing written. */
  BAD_INPUT: 2,
  /** A bug in hfhpc (sysexits EX_SOFTWARE). */
  INTERNAL: 70,
  /** Interrupted by a signal, lease released, safe to requeue (sysexits EX_TEMPFAIL). */
  INTERRUPTED: 75,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface HfhpcErrorOptions {
  /** What the user should do about it, in one sentence. */
  hint?: string;
  cause?: unknown;
  /** Structured context for logs (never a token). */
  context?: Record<string, unknown>;
}

export abstract class HfhpcError extends Error {
  abstract readonly code: string;
  abstract readonly exitCode: ExitCodeValue;
  readonly hint?: string;
  readonly context: Record<string, unknown>;

  constructor(message: string, options: HfhpcErrorOptions = {}) {
    // Redacted and escaped here so no message can carry the token, or a control character from a
    // manifest or the Hub, to a terminal, a log or the database, whoever prints it.
    super(escapeControls(redact(message)), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint === undefined ? undefined : escapeControls(redact(options.hint));
    this.context = options.context ?? {};
  }

  /** One line for the terminal: message, then the hint. */
  toUserString(): string {
    return escapeControls(redact(this.hint ? `${this.message} (${this.hint})` : this.message));
  }
}

/** Bad command-line usage. */
export class UsageError extends HfhpcError {
  readonly code = 'E_USAGE';
  readonly exitCode = ExitCode.BAD_INPUT;
}

/** One or more problems in a manifest; `problems` lists every one so all can be fixed at once. */
export class ManifestError extends HfhpcError {
  readonly code = 'E_MANIFEST';
  readonly exitCode = ExitCode.BAD_INPUT;
  readonly problems: string[];
  constructor(file: string, problems: string[], options: HfhpcErrorOptions = {}) {
    super(
      problems.length === 1
        ? `${file}: ${problems[0]}`
        : `${file}: ${problems.length} problems: ${problems.join('; ')}`,
      { hint: 'fix the manifest and run again', ...options },
    );
    this.problems = problems;
  }
}

/** A repo id outside the allow-list or not of the form org/name. */
export class NotAllowedError extends HfhpcError {
  readonly code = 'E_NOT_ALLOWED';
  readonly exitCode = ExitCode.BAD_INPUT;
}

/** A path from the Hub or the manifest that would leave its directory. */
export class UnsafePathError extends HfhpcError {
  readonly code = 'E_UNSAFE_PATH';
  readonly exitCode = ExitCode.BAD_INPUT;
}

/**
 * The cache on disk is not as hfhpc makes it: a symlink it did not create (or a file where a
 * folder belongs) on the way to something it would write or read. Nothing was written through
 * it. An unsafe environment, not bad input: exit 1, and the task stops (like a full disk).
 */
export class UnsafeCacheError extends HfhpcError {
  readonly code = 'E_UNSAFE_CACHE';
  readonly exitCode = ExitCode.FAILED;
}

/** Missing, invalid or insufficient credentials (401/403, gated repos). Never retried. */
export class AuthError extends HfhpcError {
  readonly code = 'E_AUTH';
  readonly exitCode = ExitCode.BAD_INPUT;
}

/** An answer from the Hub or CDN that is an error (after retries, where retries apply). */
export class HubError extends HfhpcError {
  readonly code: string = 'E_HUB';
  readonly exitCode: ExitCodeValue = ExitCode.FAILED;
  readonly statusCode?: number;
  /** The Hub's X-Error-Code, e.g. RepoNotFound, GatedRepo, EntryNotFound. */
  readonly hubErrorCode?: string;
  readonly url?: string;
  constructor(
    message: string,
    options: HfhpcErrorOptions & { statusCode?: number; hubErrorCode?: string; url?: string } = {},
  ) {
    super(message, options);
    this.statusCode = options.statusCode;
    this.hubErrorCode = options.hubErrorCode;
    this.url = options.url;
  }
}

/**
 * The Hub says the repo or the revision does not exist (or this account cannot see it): the
 * manifest names something that is not there, so it is bad input (exit 2), not a failure.
 */
export class HubNotFoundError extends HubError {
  override readonly code: string = 'E_HUB_NOT_FOUND';
  override readonly exitCode: ExitCodeValue = ExitCode.BAD_INPUT;
}

/** Bytes on disk do not match the size or hash the Hub listed. */
export class IntegrityError extends HfhpcError {
  readonly code = 'E_INTEGRITY';
  readonly exitCode = ExitCode.FAILED;
}

/** Not enough space (ENOSPC, or the pre-flight check), or the root is not writable. */
export class DiskError extends HfhpcError {
  readonly code = 'E_DISK';
  readonly exitCode = ExitCode.FAILED;
}

/**
 * The plan's pre-flight found the root unusable (not writable, too little free space for the
 * bytes still to fetch) before anything was written: bad input, exit 2, unlike a DiskError
 * met while working.
 */
export class PreflightError extends HfhpcError {
  readonly code = 'E_PREFLIGHT';
  readonly exitCode = ExitCode.BAD_INPUT;
}

/** The lease on a shard was lost (expired and re-claimed): the holder must stop touching it. */
export class LeaseLostError extends HfhpcError {
  readonly code = 'E_LEASE_LOST';
  readonly exitCode = ExitCode.FAILED;
}

/** A write carried a fencing token older than the shard's current one and was refused. */
export class StaleFenceError extends HfhpcError {
  readonly code = 'E_STALE_FENCE';
  readonly exitCode = ExitCode.FAILED;
}

/** The state database could not be used (busy beyond retries, corrupt, newer schema). */
export class StateError extends HfhpcError {
  readonly code = 'E_STATE';
  readonly exitCode = ExitCode.FAILED;
}

/** Slurm refused or failed a command (sbatch, scontrol). */
export class SchedulerError extends HfhpcError {
  readonly code = 'E_SCHEDULER';
  readonly exitCode = ExitCode.FAILED;
}

/** Stopped by SIGTERM/SIGINT/SIGUSR1 after releasing the lease: safe to requeue. */
export class InterruptedError extends HfhpcError {
  readonly code = 'E_INTERRUPTED';
  readonly exitCode = ExitCode.INTERRUPTED;
}

/** Work finished but some of it failed; the message names what. */
export class WorkFailedError extends HfhpcError {
  readonly code = 'E_WORK_FAILED';
  readonly exitCode = ExitCode.FAILED;
}

/** A bug: reported as such, never expected. */
export class InternalError extends HfhpcError {
  readonly code = 'E_INTERNAL';
  readonly exitCode = ExitCode.INTERNAL;
}

/** Errors of the machine, not of hfhpc: a file system or the state database refusing. */
const DISK_CODES = new Set([
  'EROFS', 'EACCES', 'EPERM', 'ENOSPC', 'EDQUOT', 'EIO', 'ENOTDIR', 'EISDIR', 'ENOENT', 'EMFILE',
  'ENFILE', 'ESTALE', 'EBUSY', 'ETXTBSY', 'ENAMETOOLONG', 'ELOOP', 'EEXIST', 'ENOTEMPTY', 'EXDEV',
]);
const STATE_CODE_RE = /^SQLITE_(?:READONLY|IOERR|CANTOPEN|CORRUPT|NOTADB|FULL|BUSY|LOCKED|PERM|PROTOCOL)/;

/**
 * Wrap anything thrown into an HfhpcError. An errno error from the file system (read-only
 * mount, permissions, a deleted folder) becomes a DiskError and a SQLite I/O, permission or
 * damage error a StateError: the environment, exit 1, with the path and a hint. Anything else
 * is an InternalError (a bug, exit 70).
 */
export function toHfhpcError(err: unknown): HfhpcError {
  if (err instanceof HfhpcError) return err;
  // Duck-typed: errors from another realm (a worker thread, a test sandbox) are not `instanceof Error`.
  const e = typeof err === 'object' && err !== null ? (err as Partial<NodeJS.ErrnoException>) : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const code = e?.code;
  if (typeof code === 'string' && DISK_CODES.has(code)) {
    return new DiskError(message, {
      cause: err,
      hint: code === 'ENOSPC' || code === 'EDQUOT' ? 'free space or quota and run again' : 'check that the path exists and this user may write there (a read-only mount?), then run again',
      context: { code, path: e?.path },
    });
  }
  if (typeof code === 'string' && STATE_CODE_RE.test(code)) {
    return new StateError(`state database: ${message} (${code})`, {
      cause: err,
      hint: code.startsWith('SQLITE_READONLY')
        ? 'the database or its folder cannot be written (read-only mount, permissions, or the file was moved or deleted while in use); fix that and run again'
        : 'check the database file and its filesystem (`hfhpc doctor`), then run again',
      context: { code },
    });
  }
  return new InternalError(`internal error: ${message}`, {
    cause: err,
    hint: 'this is a bug in hfhpc; please report it with the log',
  });
}
