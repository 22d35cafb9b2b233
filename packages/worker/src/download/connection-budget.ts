// The connections one task may hold at once: each blob group the shard pool has in flight
// holds one (its download's own connection), and a ranged blob adds a connection only while one
// is free. Eight large files at `--concurrency 8` thus go over eight connections (one each), and
// one large file alone may use up to `--connections-per-file`: what is in flight, and so the
// buffers and socket memory of the task, stays bounded by the larger of the two settings, not
// their product. A large blob that starts with no connection free goes over one connection the
// plain way (the ranged path with one connection only costs more memory and CPU), unless it
// resumes a ranged partial, whose record only the ranged path keeps exact.

export class ConnectionBudget {
  private used = 0;

  constructor(readonly size: number) {}

  /** A group's own connection: always granted (the task's pool already bounds its groups). */
  hold(): void {
    this.used++;
  }

  /** One more connection for a ranged blob, if one is free. */
  tryTake(): boolean {
    if (!this.hasFree()) return false;
    this.used++;
    return true;
  }

  /** Whether a ranged blob starting now could add a connection. */
  hasFree(): boolean {
    return this.used < this.size;
  }

  give(): void {
    this.used = Math.max(0, this.used - 1);
  }

  /** Connections held now. */
  get inUse(): number {
    return this.used;
  }
}
