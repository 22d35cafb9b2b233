import { existsSync } from 'node:fs';
import path from 'node:path';
import { probeSqliteLocking } from '@hfhpc/core';
import type { CheckResult, DoctorContext } from './doctor-types.js';

/** SQLite locking between two processes on the filesystem that holds the state database. */
export async function checkLocking(ctx: DoctorContext): Promise<CheckResult> {
  const dbDir = path.dirname(ctx.dbPath);
  const dir = existsSync(dbDir) ? dbDir : ctx.root;
  const r = await probeSqliteLocking({ dir });
  if (r.ok) return { id: 'sqlite-locking', status: 'ok', detail: `SQLite locking works in ${dir} (a second process is refused the write lock)` };
  return {
    id: 'sqlite-locking',
    status: 'fail',
    detail: r.message,
    fix:
      r.stage === 'create'
        ? 'make the database folder writable, or put the database elsewhere with --db / HFHPC_DB'
        : 'mount with working POSIX locks (NFS: lockd running, no `nolock`; Lustre: `-o flock`, not `localflock`), or put the database on such a filesystem with --db / HFHPC_DB',
  };
}
