// `hfhpc verify` as real child processes over a download made by `hfhpc run --local` against
// fakehub, with a real state database: what plain verify reads, what it finds, and that the
// manifest alone locates the database for status, verify and cleanup.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { closeSync, openSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { setup, type TestEnv } from '../../../planner/test/plan-helpers.js';

const BIN = fileURLToPath(new URL('../../../cli/dist/bin.js', import.meta.url));

let t: TestEnv;
beforeEach(async () => {
  t = await setup();
});
afterEach(async () => {
  await t.close();
});

/** `hfhpc <args>` from a folder that is not the root's parent: only the manifest says where things are. */
function hfhpc(args: string[]) {
  return execa(process.execPath, [BIN, ...args], { reject: false, extendEnv: false, cwd: t.dir, env: { ...t.env, PATH: process.env.PATH } });
}

interface Report {
  files_checked: number;
  blobs_checked: number;
  bytes_checked: number;
  blobs_hashed: number;
  bytes_hashed: number;
  files_ok: number;
  files_skipped: number;
  bad: { repo: string; path: string; blob: string; problem: string }[];
}

describe('hfhpc verify (child processes, fakehub, real database)', () => {
  it('checks every blob by its stat, re-hashes only what changed, names the damage (exit 1), and costs nothing after a re-plan', async () => {
    const m = await t.manifest({ datasets: [{ repo: 'org/many', include: ['data/train/**', 'big/**'] }] });
    const run = await hfhpc(['run', '--manifest', m, '--local', '-j', '2']);
    expect({ code: run.exitCode, stderr: run.exitCode === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });

    // The workers hashed every blob on the way in and recorded it: verify reads nothing.
    const clean = await hfhpc(['verify', '--manifest', m, '--json']);
    expect(clean.exitCode).toBe(0);
    const c = JSON.parse(clean.stdout) as Report;
    expect(c).toMatchObject({ files_checked: 41, blobs_checked: 41, blobs_hashed: 0, bytes_hashed: 0, files_ok: 41, files_skipped: 41, bad: [] });

    // 14 bytes overwritten in one blob (mtime put back), another replaced by 7 bytes.
    const blobsDir = path.join(t.root, 'datasets--org--many', 'blobs');
    const blobs = readdirSync(blobsDir).sort();
    const [hit, replaced] = [blobs[0]!, blobs[1]!];
    const hitPath = path.join(blobsDir, hit);
    const before = statSync(hitPath);
    const fd = openSync(hitPath, 'r+');
    writeSync(fd, Buffer.from('fourteen bytes'), 0, 14, 10);
    closeSync(fd);
    utimesSync(hitPath, before.atime, before.mtime);
    rmSync(path.join(blobsDir, replaced));
    writeFileSync(path.join(blobsDir, replaced), 'garbage');

    const damaged = await hfhpc(['verify', '--manifest', m, '--json']);
    expect(damaged.exitCode).toBe(1);
    const d = JSON.parse(damaged.stdout) as Report;
    expect(d.bad.map((b) => [b.blob, b.problem]).sort()).toEqual([[hit, 'hash-mismatch'], [replaced, 'size-mismatch']].sort());
    expect(d).toMatchObject({ files_checked: 41, blobs_hashed: 1, bytes_hashed: before.size, files_ok: 39 });

    // The text names each damaged file.
    const text = await hfhpc(['verify', '--manifest', m]);
    expect(text.exitCode).toBe(0); // already put back to pending: nothing done is bad now
    const named = await hfhpc(['status', '--manifest', m, '--json', '--no-slurm']);
    expect(named.exitCode).toBe(0);
    expect(JSON.parse(named.stdout)).toMatchObject({ totals: { files: 41, files_done: 39 } });

    // Fetch the two again, re-plan the unchanged manifest: plain verify hashes 0 bytes.
    expect((await hfhpc(['run', '--manifest', m, '--local', '-j', '1'])).exitCode).toBe(0);
    expect((await hfhpc(['plan', '--manifest', m])).exitCode).toBe(0);
    const replanned = JSON.parse((await hfhpc(['verify', '--manifest', m, '--json'])).stdout) as Report;
    expect(replanned).toMatchObject({ files_checked: 41, files_ok: 41, bytes_hashed: 0, bad: [] });

    // --force reads everything once.
    const forced = JSON.parse((await hfhpc(['verify', '--manifest', m, '--json', '--force'])).stdout) as Report;
    expect(forced).toMatchObject({ files_ok: 41, blobs_hashed: 41, bytes_hashed: forced.bytes_checked, bad: [] });

    // cleanup takes the root from the manifest too.
    const cleanup = await hfhpc(['cleanup', '--manifest', m, '--dry-run', '--json']);
    expect(cleanup.exitCode).toBe(0);
  });

  it('the damage is named one line each in the text report', async () => {
    const m = await t.manifest({ datasets: [{ repo: 'org/twin' }] });
    expect((await hfhpc(['run', '--manifest', m, '--local', '-j', '1'])).exitCode).toBe(0);
    const blobsDir = path.join(t.root, 'datasets--org--twin', 'blobs');
    const [blob] = readdirSync(blobsDir);
    writeFileSync(path.join(blobsDir, blob!), 'garbage');
    const r = await hfhpc(['verify', '--manifest', m]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('✗ org/twin: copy.parquet: size-mismatch');
    expect(r.stdout).toContain('✗ org/twin: x.parquet: size-mismatch');
  });
});
