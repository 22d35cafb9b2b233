// The resume record of a ranged download. Connections write a large blob's partial file out
// of order, so its size says nothing about which bytes are there; beside it,
// `<partial minus .incomplete>.ranges.incomplete` holds the length of the contiguous prefix
// already hashed (read back from disk, so on disk). A later claim copies the partial as usual
// and keeps only that prefix: the resume is exact, segments beyond it are fetched again. The
// record is an own file of the claim like the partial (created exclusively, never followed
// through a link), its name is a partial name, so `cleanup` removes it with the others.
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { DownloadFs } from './types.js';

const SUFFIX = '.ranges.incomplete';
const WIDTH = 20;

export function isResumeRecord(path: string): boolean {
  return path.endsWith(SUFFIX);
}

export function resumeRecordPath(partialPath: string): string {
  return partialPath.replace(/\.incomplete$/, '') + SUFFIX;
}

/** The prefix length a record states, or undefined when there is none (or it is unreadable). */
export async function readResumeRecord(fs: DownloadFs, partialPath: string): Promise<number | undefined> {
  let handle: FileHandle;
  try {
    handle = await fs.open(resumeRecordPath(partialPath), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(WIDTH);
    const { bytesRead } = await handle.read(buf, 0, WIDTH, 0);
    const text = buf.subarray(0, bytesRead).toString('ascii').trim();
    // A record cut short or garbled keeps nothing of the partial (safe: fetched again).
    return /^\d+$/.test(text) ? Number(text) : 0;
  } finally {
    await handle.close();
  }
}

/** The record of this claim's partial, written in place (one fixed-width write, never a longer file). */
export class ResumeRecord {
  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
  ) {}

  static async create(fs: DownloadFs, partialPath: string, prefix: number): Promise<ResumeRecord> {
    const path = resumeRecordPath(partialPath);
    await fs.unlink(path).catch(() => undefined);
    const handle = await fs.open(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o666);
    const record = new ResumeRecord(handle, path);
    await record.write(prefix);
    return record;
  }

  async write(prefix: number): Promise<void> {
    await this.handle.write(Buffer.from(String(prefix).padStart(WIDTH, ' '), 'ascii'), 0, WIDTH, 0);
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}
