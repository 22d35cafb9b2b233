// Small promises over streams and time.
import type { ServerResponse } from 'node:http';

/** Resolves on 'drain' or 'close', whichever comes first. */
export function waitDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/** Sleep, but wake as soon as the client goes away (no timers left behind by stop()). */
export function sleepUnlessClosed(ms: number, res: ServerResponse): Promise<void> {
  if (res.destroyed || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.once('close', done);
  });
}
