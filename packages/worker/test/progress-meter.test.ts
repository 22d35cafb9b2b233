import { describe, expect, it } from '@jest/globals';
import { ProgressMeter } from '../src/progress-meter.js';

describe('ProgressMeter', () => {
  it('renders files, bytes, network rate over the window, ETA and RSS', () => {
    let t = 0;
    const m = new ProgressMeter({ now: () => t, rss: () => 80 * 1024 * 1024, windowMs: 60_000 });
    m.addShard({ index: 3, files: 10, bytes: 1000 * 1024 * 1024, filesDone: 2, bytesDone: 100 * 1024 * 1024 });
    // 100 MiB came from a partial file (no network), then 200 MiB over 2 s.
    m.addBytes(100 * 1024 * 1024, 0);
    t = 2000;
    m.addBytes(200 * 1024 * 1024, 200 * 1024 * 1024);
    m.fileDone();
    m.fileFailed();
    expect(m.line()).toBe(
      'Progress: shard 3 (1 claimed): files 3/10 (1 failed), bytes 400 MiB/1000 MiB (40.0%), rate 100 MiB/s, ETA 6s, RSS 80 MiB',
    );
  });

  it('measures the rate over the last window only and says when the ETA is unknown', () => {
    let t = 0;
    const m = new ProgressMeter({ now: () => t, rss: () => 0, windowMs: 10_000 });
    m.addShard({ index: 0, files: 1, bytes: 10_000, filesDone: 0, bytesDone: 0 });
    expect(m.line()).toMatch(/rate 0 B\/s, ETA unknown/);
    m.addBytes(5000, 5000);
    t = 5000;
    expect(m.rate()).toBe(1000);
    t = 30_000; // nothing new for 25 s: the old samples leave the window
    m.rate();
    t = 31_000;
    expect(m.rate()).toBe(0);
  });
});
