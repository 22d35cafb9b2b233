import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { DiskError } from '@hfhpc/core';
import { downloadBlob, type DownloadFs } from '../../src/index.js';
import { send, sha256, tempDir } from './serve.js';
import { content, lfsParams, redirectToCdn, startRig, type Rig } from './setup.js';

/** node:fs/promises whose file writes fail with `code` once `okBytes` have been written. */
function failingFs(code: string, okBytes: number): DownloadFs {
  return {
    ...fsp,
    open: (async (...args: Parameters<typeof fsp.open>) => {
      const handle = await fsp.open(...args);
      const writev = handle.writev.bind(handle);
      let written = 0;
      handle.writev = (async (buffers: NodeJS.ArrayBufferView[], position?: number) => {
        const n = buffers.reduce((a, b) => a + b.byteLength, 0);
        if (written + n > okBytes) throw Object.assign(new Error(`${code}: simulated`), { code, syscall: 'write' });
        written += n;
        return writev(buffers, position);
      }) as typeof handle.writev;
      return handle;
    }) as typeof fsp.open,
  };
}

/** A 1 MiB tmpfs when we may mount (root with CAP_SYS_ADMIN), else undefined. */
function mountTinyTmpfs(dir: string): (() => void) | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
    return () => execFileSync('umount', [dir], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
}

describe('downloadBlob: disk errors', () => {
  let rig: Rig;
  beforeEach(async () => (rig = await startRig()));
  afterEach(() => rig.close());

  it.each(['ENOSPC', 'EDQUOT'])('%s → DiskError naming the path and the bytes still needed, partial kept', async (code) => {
    const body = content(5 * 1024 * 1024);
    rig.hubHandler = redirectToCdn(rig, body);
    rig.cdnHandler = (req, res) => send(req, res, rig.cdn, body);
    // Writes are gathered into batches of ~1 MiB: the first fits in 2 MiB, a later one fails.
    const p = lfsParams(rig, body, { fs: failingFs(code, 2 * 1024 * 1024) });

    const err = await downloadBlob(p).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(DiskError);
    const kept = statSync(p.partialPath).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect((err as DiskError).message).toContain(p.partialPath);
    expect((err as DiskError).context).toMatchObject({ path: p.partialPath, bytesNeeded: body.length - kept, code });
    expect(existsSync(p.finalPath)).toBe(false);
    expect(rig.cdn.seen).toHaveLength(1); // not retried: every write would fail the same way
  });

  it('fills a real 1 MiB tmpfs: DiskError, partial kept (skipped without mount rights)', async () => {
    const mnt = await tempDir();
    const unmount = mountTinyTmpfs(mnt.dir);
    if (!unmount) {
      await mnt.cleanup();
      console.warn('tmpfs test skipped: cannot mount here; the fs-seam test above covers ENOSPC');
      return;
    }
    try {
      const body = content(3 * 1024 * 1024);
      rig.hubHandler = redirectToCdn(rig, body);
      rig.cdnHandler = (req, res) => send(req, res, rig.cdn, body);
      const etag = sha256(body);
      const p = { ...lfsParams(rig, body), partialPath: join(mnt.dir, 'blobs', `${etag}.incomplete`), finalPath: join(mnt.dir, 'blobs', etag) };

      const err = await downloadBlob(p).catch((e: unknown) => e);

      expect(err).toBeInstanceOf(DiskError);
      expect((err as DiskError).message).toMatch(/no space left \(ENOSPC\) writing .*\.incomplete; .* still needed/);
      expect(statSync(p.partialPath).size).toBeGreaterThan(0);
      expect(existsSync(p.finalPath)).toBe(false);
    } finally {
      unmount();
      await mnt.cleanup();
    }
  });
});
