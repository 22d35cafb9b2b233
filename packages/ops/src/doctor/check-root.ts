import { randomBytes } from 'node:crypto';
import { open, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { CheckResult, DoctorContext } from './doctor-types.js';

/** The root must be a directory where this user can create, write, sync and remove a file. */
export async function checkRoot(ctx: DoctorContext): Promise<CheckResult> {
  let st;
  try {
    st = await stat(ctx.root);
  } catch {
    return { id: 'root', status: 'fail', detail: `root ${ctx.root} does not exist`, fix: `mkdir -p ${ctx.root} (on the parallel filesystem), or pass --root / HFHPC_ROOT` };
  }
  if (!st.isDirectory()) return { id: 'root', status: 'fail', detail: `root ${ctx.root} is not a directory`, fix: 'pass --root / HFHPC_ROOT naming a directory' };
  const probe = path.join(ctx.root, `.hfhpc-doctor-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const fh = await open(probe, 'wx');
    try {
      await fh.write('hfhpc doctor\n');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await unlink(probe);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    await unlink(probe).catch(() => undefined);
    return {
      id: 'root',
      status: 'fail',
      detail: `root ${ctx.root} is not writable (${code})`,
      fix: code === 'EROFS' ? 'the filesystem is mounted read-only: choose a root on a writable filesystem' : `fix the permissions (ls -ld ${ctx.root}; chmod u+rwx) or choose another --root`,
    };
  }
  return { id: 'root', status: 'ok', detail: `root ${ctx.root} exists and is writable` };
}
