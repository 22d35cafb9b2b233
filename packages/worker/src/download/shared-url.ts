// The CDN URL the connections of one ranged pass share: one resolve at a time, and the others
// wait for its answer instead of each asking the Hub.

/** The CDN URL the connections share: one resolve at a time, and the others wait for its answer. */
export class SharedUrl {
  cdn?: string;
  resolves = 0;
  private resolving?: Promise<void>;
  private done?: () => void;

  constructor(private readonly resolveUrl: string) {}

  async acquire(stopped: Promise<never>): Promise<{ url: string; resolver: boolean }> {
    for (;;) {
      if (this.cdn) return { url: this.cdn, resolver: false };
      if (!this.resolving) {
        this.resolving = new Promise((resolve) => (this.done = resolve));
        this.resolves++;
        return { url: this.resolveUrl, resolver: true };
      }
      await Promise.race([this.resolving, stopped]);
    }
  }

  /** The resolver's request answered (`url`: where the CDN's answer came from) or failed (undefined). */
  resolved(url: string | undefined): void {
    if (url) this.cdn = url;
    this.resolving = undefined;
    this.done?.();
  }

  invalidate(url: string): void {
    if (this.cdn === url) this.cdn = undefined;
  }
}
