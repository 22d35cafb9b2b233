// Which bytes of a large blob each ranged connection fetches next (pure, no I/O): the blob is
// cut into segments (those a resume record names keep their bounds and landed bytes, the gaps
// between them are cut anew); a connection claims the next unclaimed one,
// reports bytes as they land (always contiguous from the segment's start), and gives a failed
// one back to be continued from where it got. The contiguous prefix (every byte before it
// on disk) is what the in-order hash may read back.

export interface KnownSegment {
  readonly start: number;
  readonly end: number;
  readonly done: number;
}

/** A known segment fits when it starts at or after `from`, is not empty, ends within `size` and holds at most its length. */
export function validKnown(k: KnownSegment, from: number, size: number): boolean {
  const ints = [k.start, k.end, k.done].every((n) => Number.isSafeInteger(n) && n >= 0);
  return ints && k.start >= from && k.end > k.start && k.end <= size && k.done <= k.end - k.start;
}

export interface Segment {
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
  /** Bytes landed on disk from `start`. */
  done: number;
  claimed: boolean;
}

export class SegmentPlan {
  readonly segments: Segment[];
  /** Index of the first segment not complete (the contiguous prefix ends inside it). */
  private head = 0;

  /** `known`: segments already (partly) on disk, sorted, not overlapping, within `size`. */
  constructor(
    readonly size: number,
    segmentBytes: number,
    known: ReadonlyArray<KnownSegment> = [],
  ) {
    if (!(segmentBytes > 0)) throw new RangeError(`segmentBytes must be > 0, got ${segmentBytes}`);
    this.segments = [];
    let at = 0;
    const cut = (to: number) => {
      for (; at < to; at = Math.min(to, at + segmentBytes)) this.segments.push({ start: at, end: Math.min(to, at + segmentBytes), done: 0, claimed: false });
    };
    for (const k of known) {
      if (!validKnown(k, at, size)) throw new RangeError(`segment ${k.start}-${k.end} (${k.done} done) does not fit after ${at} in ${size}`);
      cut(k.start);
      this.segments.push({ start: k.start, end: k.end, done: k.done, claimed: false });
      at = k.end;
    }
    cut(size);
    this.advanceHead();
  }

  /** What a resume record keeps: every segment's bounds and landed bytes. */
  snapshot(): KnownSegment[] {
    return this.segments.map(({ start, end, done }) => ({ start, end, done }));
  }

  /**
   * The first unclaimed segment that starts before `limit` (connections stay within a window
   * ahead of the hash), marked claimed; undefined when none is.
   */
  claim(limit = Infinity): Segment | undefined {
    for (let i = this.head; i < this.segments.length; i++) {
      const s = this.segments[i];
      if (s.start >= limit) return undefined;
      if (!s.claimed && s.done < s.end - s.start) {
        s.claimed = true;
        return s;
      }
    }
    return undefined;
  }

  /** `bytes` more landed at the end of what `segment` holds. */
  landed(segment: Segment, bytes: number): void {
    segment.done += bytes;
    if (segment.start + segment.done > segment.end) throw new RangeError(`segment ${segment.start}-${segment.end} overfilled`);
    this.advanceHead();
  }

  private advanceHead(): void {
    while (this.head < this.segments.length && this.isComplete(this.segments[this.head])) this.head++;
  }

  /** Give a segment back (its connection failed or stopped): the next claim continues it at `start + done`. */
  release(segment: Segment): void {
    segment.claimed = false;
  }

  /** Every byte before this offset is on disk. */
  contiguousEnd(): number {
    const s = this.segments[this.head];
    return s ? s.start + s.done : this.size;
  }

  /** Bytes on disk after the resumed prefix. */
  landedBytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.done;
    return n;
  }

  complete(): boolean {
    return this.head >= this.segments.length;
  }

  /** Some segment is neither complete nor claimed. */
  hasUnclaimed(): boolean {
    return this.segments.some((s, i) => i >= this.head && !s.claimed && !this.isComplete(s));
  }

  private isComplete(s: Segment): boolean {
    return s.start + s.done === s.end;
  }
}
