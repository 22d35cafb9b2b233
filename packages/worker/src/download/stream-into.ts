// Pipe a response body into the file sink with backpressure, like `stream.pipeline`, except
// that a failing body (reset, stall, abort) does not throw away what is already buffered for
// the disk: the sink is ended, so every byte received is kept and the resume starts after it.
import type { Readable, Writable } from 'node:stream';

export interface StreamIntoResult {
  /** Why the body did not end normally (network error, premature close), if it did not. */
  sourceError?: unknown;
  /** Why the sink failed (write error, too many bytes), if it did. */
  sinkError?: unknown;
}

export function streamInto(source: Readable, sink: Writable): Promise<StreamIntoResult> {
  return new Promise((resolve) => {
    const result: StreamIntoResult = {};
    let ended = false;
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      source.off('end', onEnd);
      source.off('error', onSourceError);
      source.off('close', onSourceClose);
      resolve(result);
    };
    const stopSource = () => {
      source.unpipe(sink);
      if (!sink.writableEnded && !sink.destroyed) sink.end();
    };
    const onEnd = () => {
      ended = true;
    };
    const onSourceError = (err: unknown) => {
      result.sourceError ??= err;
      stopSource();
    };
    const onSourceClose = () => {
      // Destroyed without an error (our stall watchdog or abort), or closed before its end.
      if (!ended) {
        result.sourceError ??= Object.assign(new Error('response closed before its end'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
        stopSource();
      }
    };
    source.on('end', onEnd);
    source.on('error', onSourceError);
    source.on('close', onSourceClose);
    sink.once('finish', settle);
    sink.once('error', (err) => {
      result.sinkError = err;
      source.unpipe(sink);
      source.destroy();
      settle();
    });
    source.pipe(sink);
  });
}
