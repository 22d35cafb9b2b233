// Whether the process named by a lease owner (`leaseOwner()`: `<job>@<host>:<pid>`) can still be
// writing. On the same host the pid answers exactly; elsewhere only the lease's expiry can
// (a holder that stopped heartbeating for a whole ttl is taken as gone).

export interface LeaseHolder {
  /** `<array job>_<task>`, `<job>`, or `local`. */
  job: string;
  host: string;
  pid: number;
}

/** `123_4@node7:5678` → `{ job: '123_4', host: 'node7', pid: 5678 }`; undefined for other strings. */
export function parseLeaseOwner(owner: string): LeaseHolder | undefined {
  const m = /^(.*)@([^@]+):(\d+)$/.exec(owner);
  if (!m) return undefined;
  const pid = Number(m[3]);
  return Number.isSafeInteger(pid) && pid > 0 ? { job: m[1], host: m[2], pid } : undefined;
}

/** True while a process with this pid exists on this host (EPERM: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface HolderAliveParams {
  /** The lease's owner string. */
  owner: string;
  /** When the lease runs out (epoch ms). */
  expiresAt: number;
  now: number;
  /** This host's name (`os.hostname()`). */
  host: string;
  /** Default `pidAlive`. */
  isPidAlive?: (pid: number) => boolean;
}

/**
 * Whether a lease's holder may still be writing: never past the expiry; before it, on this
 * host only while its pid exists (a frozen process still exists, so it counts as alive), on
 * another host always (only the expiry tells).
 */
export function leaseHolderAlive(params: HolderAliveParams): boolean {
  if (params.expiresAt <= params.now) return false;
  const holder = parseLeaseOwner(params.owner);
  if (!holder || holder.host !== params.host) return true;
  return (params.isPidAlive ?? pidAlive)(holder.pid);
}
