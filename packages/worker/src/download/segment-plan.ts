// Which bytes of a large blob each ranged connection fetches next (pure, no I/O): the bytes
// after the resumed prefix are cut into segments; a connection claims the next unclaimed one,
// reports bytes as they land (always contiguous from the segment's start), and gives a failed
// one back to be continued from where it got. The contiguous prefix (every byte before it
// on disk) is what the in-order hash may read back.

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

  constructor(
    from: number,
    readonly size: number,
    segmentBytes: number,
  ) {
    if (!(segmentBytes > 0)) throw new RangeError(`segmentBytes must be > 0, got ${segmentBytes}`);
    this.segments = [];
    for (let s = from; s < size; s += segmentBytes) this.segments.push({ start: s, end: Math.min(size, s + segmentBytes), done: 0, claimed: false });
  }

  /**
   * The first unclaimed segment that starts before `limit` (connections stay within a window
   * ahead of the hash), marked claimed; undefined when none is.
   */
  claim(limit = Infinity): Segment | undefined {
    for (let i = this.head; i < this.segments.length; i++) {
      const s = this.segments[i]!;
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
    while (this.head < this.segments.length && this.isComplete(this.segments[this.head]!)) this.head++;
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
