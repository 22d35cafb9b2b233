// Moving a verified partial file to its final blob name without ever replacing a blob that is
// already there: a hard link fails with EEXIST instead of overwriting (rename would replace).
import type { DownloadFs } from './types.js';

// Filesystems or mounts without hard links: fall back to check-then-rename. The race left is
// two writers publishing the same verified bytes, which is harmless.
const NO_LINK = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

export type PublishResult = 'published' | 'existed';

export async function publishBlob(params: { partialPath: string; finalPath: string; fs: DownloadFs }): Promise<PublishResult> {
  const { partialPath, finalPath, fs } = params;
  try {
    await fs.link(partialPath, finalPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') {
      await removeIfPresent(fs, partialPath);
      return 'existed';
    }
    if (!NO_LINK.has(code)) throw err;
    if (await exists(fs, finalPath)) {
      await removeIfPresent(fs, partialPath);
      return 'existed';
    }
    await fs.rename(partialPath, finalPath);
    return 'published';
  }
  await removeIfPresent(fs, partialPath);
  return 'published';
}

export async function exists(fs: DownloadFs, path: string): Promise<boolean> {
  try {
    await fs.stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

export async function removeIfPresent(fs: DownloadFs, path: string): Promise<void> {
  try {
    await fs.unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
