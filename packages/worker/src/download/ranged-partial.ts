// The own partial of a ranged transfer, holding the earlier claims' bytes that are known good
// (resume-record.ts says which segments of a copied partial landed).
import type { FileHandle } from 'node:fs/promises';
import { openOwnPartial } from './own-partial.js';
import { removeIfPresent } from './publish-blob.js';
import type { Ranged } from './ranged-state.js';
import { isResumeRecord, readResumeRecord, resumeRecordPath } from './resume-record.js';
import type { KnownSegment } from './segment-plan.js';

/**
 * This claim's own partial, holding the earlier claims' bytes that are known good: a partial
 * with a resume record keeps the segments it states, one without keeps its size as a prefix.
 * Every record read is removed, like the partials (a stale writer's record is then an orphan
 * nobody reads).
 */
export async function openRangedPartial(r: Ranged): Promise<{ handle: FileHandle; known: KnownSegment[] }> {
  const { fs } = r.settings;
  const { partialPath, log, path } = r.params;
  const all = r.params.resumeFrom ?? [];
  const candidates = all.filter((p) => !isResumeRecord(p));
  const stated = new Map<string, KnownSegment[] | undefined>();
  for (const c of [...candidates, partialPath]) stated.set(c, await readResumeRecord(fs, c, r.size));
  const { handle, copiedFrom } = await openOwnPartial({ fs, partialPath, resumeFrom: candidates, size: r.size });
  let known: KnownSegment[] = [];
  if (copiedFrom) {
    // A copy of our own name was moved aside first: its record is still under our name.
    const asideOfOurs = copiedFrom.startsWith(partialPath.replace(/\.incomplete$/, '') + '.aside-');
    const segments = asideOfOurs ? stated.get(partialPath) : stated.get(copiedFrom);
    const onDisk = (await handle.stat()).size;
    if (segments === undefined) {
      if (onDisk > 0) known = [{ start: 0, end: onDisk, done: onDisk }];
    } else {
      // Only what landed within the copied bytes counts.
      known = segments.map((k) => ({ ...k, done: Math.max(0, Math.min(k.done, onDisk - k.start)) }));
      if (known.every((k) => k.done === 0)) await handle.truncate(0);
    }
    log?.debug(`${path}: copied ${copiedFrom} into ${partialPath}`, { path });
  }
  for (const p of [...all.filter(isResumeRecord), ...candidates.map(resumeRecordPath), resumeRecordPath(partialPath)]) await removeIfPresent(fs, p);
  return { handle, known };
}
