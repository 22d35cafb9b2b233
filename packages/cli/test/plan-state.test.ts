// `run --local`'s closing summary and `hfhpc status` read one plan rollup (core's planRollup and
// deriveState): on a real state database with done, failed, pending and partly fetched files they
// give the same state per dataset and for the plan, with and without a lease held. verify and
// cleanup report no plan state, but what they count must agree with it: cleanup calls a partial
// resumable exactly for the files the rollup has not done, verify checks exactly its done files.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  cacheLayout, claimShard, createPlan, finishShard, repoFolderName, markFileDone, markFileFailed, markFileRunning, openStore, ProgressBatcher, releaseLease,
  type NewPlanFile, type Store,
} from '@hfhpc/core';
import { readStatus, runCleanup, runVerify } from '@hfhpc/ops';
import { formatPlanSummary, summarizePlan } from '@hfhpc/worker';

const A = 'org/mixed'; // done + failed + pending: the worker used to call it failed, status pending
const B = 'org/lost'; // done + failed, nothing left: failed
const C = 'org/whole'; // all done
const D = 'org/partial'; // bytes on disk, no lease: the worker used to call it running

let dir: string | undefined;
let blobs = new Map<string, string>();
const fileBlob = (repo: string, p: string): string => blobs.get(`${repo}/${p}`)!;
const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function plan(): { store: Store; path: string; planId: number; id: (repo: string, p: string) => number } {
  dir = mkdtempSync(join(tmpdir(), 'hfhpc-plan-state-'));
  const path = join(dir, '_hfhpc', 'state.sqlite');
  const clock = { t: 1_700_000_000_000 };
  const store = openStore({ path, now: () => clock.t });
  stores.push(store);
  const layout: [string, string, number][] = [
    [A, 'done', 0], [A, 'failed', 0], [B, 'done', 0], [B, 'failed', 0],
    [A, 'pending', 1],
    [C, 'x', 2], [C, 'y', 2],
    [D, 'big', 3],
  ];
  const files: NewPlanFile[] = layout.map(([repo, p, shardIdx], i) => {
    const oid = i.toString(16).padStart(40, '0');
    return { datasetRepo: repo, path: p, size: 100, oid, blob: oid, shardIdx, state: 'pending' };
  });
  const planId = createPlan(store, {
    manifestPath: join(dir, 'm.yaml'),
    manifestSha256: 'ab'.repeat(32),
    root: dir,
    hubUrl: 'http://127.0.0.1:9',
    datasets: [A, B, C, D].map((repo) => ({ repo, revision: 'main', commitSha: 'c'.repeat(40) })),
    shards: [0, 1, 2, 3].map((idx) => ({ idx, bytesTotal: files.filter((f) => f.shardIdx === idx).length * 100, filesTotal: files.filter((f) => f.shardIdx === idx).length })),
    files,
  });
  const rows = store.read((db) => db.prepare('SELECT f.id, d.repo, f.path FROM files f JOIN datasets d ON d.id = f.dataset_id').all()) as { id: number; repo: string; path: string }[];
  const id = (repo: string, p: string): number => rows.find((r) => r.repo === repo && r.path === p)!.id;
  blobs = new Map(files.map((f) => [`${f.datasetRepo}/${f.path}`, f.blob]));
  return { store, path, planId, id };
}

/** State per dataset and for the plan, as `run --local` prints it and as `hfhpc status` reports it. */
function bothViews(path: string, planId: number): { summary: Record<string, string>; status: Record<string, string>; lines: string[] } {
  const runLocalStore = openStore({ path, create: false });
  const statusStore = openStore({ path, create: false, readonly: true }); // as `hfhpc status` opens it
  stores.push(runLocalStore, statusStore);
  const s = summarizePlan({ store: runLocalStore, planId });
  const r = readStatus({ store: statusStore, planId });
  return {
    summary: Object.fromEntries([['plan', s.state], ...s.datasets.map((d) => [d.repo, d.state])]),
    status: Object.fromEntries([['plan', r.state], ...r.datasets.map((d) => [d.repo, d.state])]),
    lines: formatPlanSummary(s),
  };
}

describe('one plan state for run --local and status', () => {
  it('agree per dataset and for the plan on failed, pending and partly fetched files, with and without a lease', async () => {
    const { store, path, planId, id } = plan();
    const own = (index: number, owner: string) => claimShard(store, { planId, owner, preferIndex: index, ttlMs: 60_000 })!;
    const c0 = own(0, 'local_0@host:1');
    markFileDone(store, c0, { fileId: id(A, 'done') });
    markFileFailed(store, c0, { fileId: id(A, 'failed'), error: 'HTTP 500 after 5 tries' });
    markFileDone(store, c0, { fileId: id(B, 'done') });
    markFileFailed(store, c0, { fileId: id(B, 'failed'), error: 'size mismatch' });
    expect(finishShard(store, c0).state).toBe('failed');
    const c2 = own(2, 'local_1@host:2');
    markFileDone(store, c2, { fileId: id(C, 'x') });
    markFileDone(store, c2, { fileId: id(C, 'y') });
    expect(finishShard(store, c2).state).toBe('done');
    // A task stopped mid-file: 40 bytes on disk, lease released (exit 75), shard back to pending.
    const c3 = own(3, 'local_2@host:3');
    markFileRunning(store, c3, { fileId: id(D, 'big') });
    const progress = new ProgressBatcher({ store, claim: c3 });
    progress.update(id(D, 'big'), 40);
    await progress.close();
    releaseLease(store, c3, { reason: 'interrupted' });

    // After the run: no lease, shard 1 never claimed.
    const after = bothViews(path, planId);
    expect(after.summary).toEqual({ plan: 'pending', [A]: 'pending', [B]: 'failed', [C]: 'done', [D]: 'pending' });
    expect(after.status).toEqual(after.summary);
    expect(after.lines[0]).toMatch(/^plan \d+: incomplete \(pending\); shards: 1 done, 1 failed, 0 running, 2 pending$/);
    expect(after.lines).toContain(`  ${A}@main (cccccccccccc): pending, files 1/3 (1 failed), bytes 100 B/300 B`);
    expect(after.lines).toContain(`  ${B}@main (cccccccccccc): failed, files 1/2 (1 failed), bytes 100 B/200 B`);
    expect(after.lines).toContain(`  failed: ${B}/failed: size mismatch`);

    // cleanup (dry run, as the CLI opens it): one legacy partial per planned file; resumable
    // exactly where the rollup has files not done, per dataset.
    const root = dirname(dirname(path));
    for (const [repo, p] of [[A, 'done'], [A, 'failed'], [A, 'pending'], [B, 'done'], [B, 'failed'], [C, 'x'], [C, 'y'], [D, 'big']] as const) {
      const layout = cacheLayout(root, repo);
      mkdirSync(layout.blobsDir, { recursive: true });
      writeFileSync(layout.incompletePath(fileBlob(repo, p)), 'x');
    }
    const cleanupStore = openStore({ path, create: false, readonly: true });
    stores.push(cleanupStore);
    const cleanup = await runCleanup({ store: cleanupStore, root, dryRun: true });
    const resumable = (repo: string) => cleanup.partials.filter((x) => x.verdict === 'resumable' && x.repoFolder === repoFolderName(repo)).length;
    const rollup = readStatus({ store: cleanupStore, planId });
    for (const d of rollup.datasets) expect([d.repo, resumable(d.repo)]).toEqual([d.repo, d.files - d.files_done]);
    expect(cleanup.partials.filter((x) => x.verdict === 'orphan')).toHaveLength(rollup.totals.files_done);

    // A task holds shard 1: the datasets with files left are being worked on.
    const c1 = own(1, 'local_3@host:4');
    const during = bothViews(path, planId);
    expect(during.summary).toEqual({ plan: 'running', [A]: 'running', [B]: 'failed', [C]: 'done', [D]: 'running' });
    expect(during.status).toEqual(during.summary);

    // Its file fails too, and D's finishes: nothing left to do and some failed → failed everywhere.
    markFileFailed(store, c1, { fileId: id(A, 'pending'), error: 'HTTP 403' });
    expect(finishShard(store, c1).state).toBe('failed');
    const c3b = own(3, 'local_0@host:5');
    markFileDone(store, c3b, { fileId: id(D, 'big') });
    finishShard(store, c3b);
    const end = bothViews(path, planId);
    expect(end.summary).toEqual({ plan: 'failed', [A]: 'failed', [B]: 'failed', [C]: 'done', [D]: 'done' });
    expect(end.status).toEqual(end.summary);
    expect(end.lines[0]).toMatch(/^plan \d+: incomplete \(failed\)/);

    // verify resolves the same plan and checks exactly the files the rollup counts done; no blob
    // is on disk, so it puts them back to pending, and both views follow.
    const endStatus = readStatus({ store, planId });
    const verify = await runVerify({ store, root: dirname(dirname(path)), concurrency: 2 });
    expect(verify.plan_id).toBe(planId);
    expect(verify.files_checked).toBe(endStatus.totals.files_done);
    expect(verify.files_not_done).toBe(endStatus.totals.files - endStatus.totals.files_done);
    expect(verify.bad).toHaveLength(endStatus.totals.files_done);
    const reverified = bothViews(path, planId);
    expect(reverified.summary).toEqual({ plan: 'pending', [A]: 'pending', [B]: 'pending', [C]: 'pending', [D]: 'pending' });
    expect(reverified.status).toEqual(reverified.summary);
  });
});
