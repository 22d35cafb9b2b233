// The resume record of a ranged download. Connections write a large blob's partial file out
// of order, so its size says nothing about which bytes are there; beside it,
// `<partial minus .incomplete>.ranges.incomplete` lists the segments and how many bytes of each
// have landed (rewritten in place as they land, one write at a time, each after the writes it
// describes finished). A later claim copies the partial as usual and continues every segment
// where it got: the resume is exact, nothing landed is fetched again. The record is an own
// file of the claim like the partial (created exclusively, never read through a link); its
// name is a partial name, so `cleanup` removes it with the others.
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { validKnown, type KnownSegment } from './segment-plan.js';
import type { DownloadFs } from './types.js';

const SUFFIX = '.ranges.incomplete';

export function isResumeRecord(path: string): boolean {
  return path.endsWith(SUFFIX);
}

export function resumeRecordPath(partialPath: string): string {
  return partialPath.replace(/\.incomplete$/, '') + SUFFIX;
}

/**
 * The segments a record states for a blob of `size` bytes: undefined when there is no record,
 * `[]` when it is unreadable or does not fit (then nothing of the partial is kept).
 */
export async function readResumeRecord(fs: DownloadFs, partialPath: string, size: number): Promise<KnownSegment[] | undefined> {
  let handle: FileHandle;
  try {
    handle = await fs.open(resumeRecordPath(partialPath), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const text = (await handle.readFile()).subarray(0, 1 << 20).toString('utf8').trim();
    return parseRecord(text, size);
  } finally {
    await handle.close();
  }
}

export function parseRecord(text: string, size: number): KnownSegment[] {
  try {
    const parsed = JSON.parse(text) as { size?: unknown; segments?: unknown };
    if (parsed.size !== size || !Array.isArray(parsed.segments)) return [];
    const out: KnownSegment[] = [];
    let at = 0;
    for (const s of parsed.segments as unknown[]) {
      if (!Array.isArray(s) || s.length !== 3) return [];
      const k = { start: Number(s[0]), end: Number(s[1]), done: Number(s[2]) };
      if (!validKnown(k, at, size)) return [];
      out.push(k);
      at = k.end;
    }
    return out;
  } catch {
    return [];
  }
}

/** The record of this claim's partial: saves are serialised, and a save asked for while one runs is coalesced into the next. */
export class ResumeRecord {
  private width = 0;
  private chain: Promise<void> = Promise.resolve();
  private pending?: () => KnownSegment[];

  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    private readonly size: number,
  ) {}

  static async create(fs: DownloadFs, partialPath: string, size: number): Promise<ResumeRecord> {
    const path = resumeRecordPath(partialPath);
    await fs.unlink(path).catch(() => undefined);
    const handle = await fs.open(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o666);
    return new ResumeRecord(handle, path, size);
  }

  /**
   * Save the segments `snapshot` returns when the write starts; `before` runs first (the
   * lease check). Resolves once written; rejects with a write or `before` error.
   */
  save(snapshot: () => KnownSegment[], before?: () => Promise<void> | void): Promise<void> {
    if (this.pending) {
      this.pending = snapshot;
      return this.chain;
    }
    this.pending = snapshot;
    this.chain = this.chain.then(async () => {
      const take = this.pending!;
      this.pending = undefined;
      await before?.();
      await this.write(take());
    });
    return this.chain;
  }

  private async write(segments: KnownSegment[]): Promise<void> {
    const text = JSON.stringify({ size: this.size, segments: segments.map((s) => [s.start, s.end, s.done]) });
    if (text.length > this.width) {
      // Room for the same segments with every count at its widest: later saves overwrite in place.
      this.width = text.length + 24 * segments.length + 16;
      await this.handle.truncate(0);
    }
    const buf = Buffer.from(text.padEnd(this.width, ' '), 'utf8');
    await this.handle.write(buf, 0, buf.length, 0);
  }

  async close(): Promise<void> {
    await this.chain.catch(() => undefined);
    await this.handle.close().catch(() => undefined);
  }
}
