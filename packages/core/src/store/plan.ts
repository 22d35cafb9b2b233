// Storing a plan (datasets, shards, files) in one transaction, and reading plans back.
import { InternalError } from '../errors.js';
import { insertEvent } from './events.js';
import type { Db, Store } from './open-store.js';
import { stmt } from './statements.js';
import type { PlanRow } from './types.js';

export interface NewPlan {
  manifestPath: string;
  manifestSha256: string;
  /** Absolute download root. */
  root: string;
  hubUrl: string;
  /** Free-form settings kept with the plan (shard size, slurm options…); stored as JSON. Default {}. */
  options?: Record<string, unknown>;
  datasets: { repo: string; revision: string; commitSha: string }[];
  /** Indexes 0…N-1; totals must agree with the files given. */
  shards: { idx: number; bytesTotal: number; filesTotal: number }[];
  files: NewPlanFile[];
}

export interface NewPlanFile {
  /** Must name one of the plan's datasets. */
  datasetRepo: string;
  path: string;
  size: number;
  /** Git blob sha1 (of the pointer file for LFS files). */
  oid: string;
  lfsSha256?: string | null;
  /** Cache blob name (lfsSha256 else oid). */
  blob: string;
  shardIdx: number;
  /** 'done' for files an earlier plan already fetched (idempotent re-plan). Default 'pending'. */
  state?: 'pending' | 'done';
  /** Default: size when done, else 0. */
  bytesDone?: number;
}

/** Store a whole plan in one write transaction; returns the new plan's id. */
export function createPlan(store: Store, plan: NewPlan): number {
  const shardTotals = checkPlan(plan);
  return store.write((db) => {
    const at = store.now();
    const planId = Number(
      stmt(
        db,
        'INSERT INTO plans (created_at, manifest_path, manifest_sha256, root, hub_url, shard_count, options) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ).run(at, plan.manifestPath, plan.manifestSha256, plan.root, plan.hubUrl, plan.shards.length, JSON.stringify(plan.options ?? {}))
        .lastInsertRowid,
    );
    const datasetIds = new Map<string, number>();
    const insDataset = stmt(db, 'INSERT INTO datasets (plan_id, repo, revision, commit_sha) VALUES (?, ?, ?, ?)');
    for (const d of plan.datasets) datasetIds.set(d.repo, Number(insDataset.run(planId, d.repo, d.revision, d.commitSha).lastInsertRowid));

    const shardIds = new Map<number, number>();
    const insShard = stmt(db, 'INSERT INTO shards (plan_id, idx, bytes_total, files_total, state) VALUES (?, ?, ?, ?, ?)');
    for (const s of plan.shards) {
      // A shard whose files are all done already (re-plan) is done from the start.
      const t = shardTotals.get(s.idx)!;
      const state = t.files === t.done ? 'done' : 'pending';
      shardIds.set(s.idx, Number(insShard.run(planId, s.idx, s.bytesTotal, s.filesTotal, state).lastInsertRowid));
    }

    const insFile = stmt(
      db,
      'INSERT INTO files (dataset_id, shard_id, path, size, oid, lfs_sha256, blob, state, bytes_done, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (const f of plan.files) {
      const state = f.state ?? 'pending';
      const bytesDone = f.bytesDone ?? (state === 'done' ? f.size : 0);
      insFile.run(datasetIds.get(f.datasetRepo)!, shardIds.get(f.shardIdx)!, f.path, f.size, f.oid, f.lfsSha256 ?? null, f.blob, state, bytesDone, at);
    }
    const bytes = plan.shards.reduce((sum, s) => sum + s.bytesTotal, 0);
    insertEvent(db, at, { kind: 'plan-created', planId, detail: { datasets: plan.datasets.length, shards: plan.shards.length, files: plan.files.length, bytes } });
    return planId;
  });
}

/** Reject a malformed plan before touching the database; returns per-shard file counts. */
function checkPlan(plan: NewPlan): Map<number, { files: number; bytes: number; done: number }> {
  const bad = (msg: string) => new InternalError(`invalid plan: ${msg}`, { hint: 'this is a bug in the planner; please report it' });
  const repos = new Set<string>();
  for (const d of plan.datasets) {
    if (repos.has(d.repo)) throw bad(`dataset ${d.repo} listed twice`);
    repos.add(d.repo);
  }
  const totals = new Map<number, { files: number; bytes: number; done: number }>();
  plan.shards.forEach((s) => {
    if (!Number.isSafeInteger(s.idx) || s.idx < 0 || s.idx >= plan.shards.length) throw bad(`shard index ${s.idx} outside 0…${plan.shards.length - 1}`);
    if (totals.has(s.idx)) throw bad(`shard index ${s.idx} listed twice`);
    totals.set(s.idx, { files: 0, bytes: 0, done: 0 });
  });
  const paths = new Set<string>();
  for (const f of plan.files) {
    const key = `${f.datasetRepo}\0${f.path}`;
    if (paths.has(key)) throw bad(`file ${f.path} of ${f.datasetRepo} listed twice`);
    paths.add(key);
    if (f.state !== undefined && f.state !== 'pending' && f.state !== 'done') throw bad(`file ${f.path} has state ${String(f.state)}`);
    if (!repos.has(f.datasetRepo)) throw bad(`file ${f.path} names unknown dataset ${f.datasetRepo}`);
    const t = totals.get(f.shardIdx);
    if (!t) throw bad(`file ${f.path} names unknown shard ${f.shardIdx}`);
    if (!Number.isSafeInteger(f.size) || f.size < 0) throw bad(`file ${f.path} has size ${f.size}`);
    if (!f.blob) throw bad(`file ${f.path} has no blob`);
    t.files++;
    t.bytes += f.size;
    if (f.state === 'done') t.done++;
  }
  for (const s of plan.shards) {
    const t = totals.get(s.idx)!;
    if (t.files !== s.filesTotal || t.bytes !== s.bytesTotal) {
      throw bad(`shard ${s.idx} says ${s.filesTotal} files / ${s.bytesTotal} bytes, its files add up to ${t.files} / ${t.bytes}`);
    }
  }
  return totals;
}

export interface RawPlan {
  id: number;
  created_at: number;
  manifest_path: string;
  manifest_sha256: string;
  root: string;
  hub_url: string;
  shard_count: number;
  job_ids: string;
  options: string;
}

function toPlan(r: RawPlan): PlanRow {
  return {
    id: r.id,
    createdAt: r.created_at,
    manifestPath: r.manifest_path,
    manifestSha256: r.manifest_sha256,
    root: r.root,
    hubUrl: r.hub_url,
    shardCount: r.shard_count,
    jobIds: JSON.parse(r.job_ids) as string[],
    options: JSON.parse(r.options) as Record<string, unknown>,
  };
}

/** The newest plan (the current one), or null when none was stored. */
export function latestPlan(store: Store): PlanRow | null {
  const r = store.read((db) => planRecord(db));
  return r ? toPlan(r) : null;
}

/** The plan with this id, or null. */
export function getPlan(store: Store, planId: number): PlanRow | null {
  const r = store.read((db) => planRecord(db, planId));
  return r ? toPlan(r) : null;
}

/** The raw row of plan `planId`, or of the newest plan when undefined (store-internal). */
export function planRecord(db: Db, planId?: number): RawPlan | undefined {
  return (
    planId === undefined ? stmt(db, 'SELECT * FROM plans ORDER BY id DESC LIMIT 1').get() : stmt(db, 'SELECT * FROM plans WHERE id = ?').get(planId)
  ) as RawPlan | undefined;
}

/** Record the Slurm job id(s) the plan was submitted as (replaces the list). */
export function setPlanJobIds(store: Store, planId: number, jobIds: string[]): void {
  store.write((db) => {
    const changed = stmt(db, 'UPDATE plans SET job_ids = ? WHERE id = ?').run(JSON.stringify(jobIds), planId).changes;
    if (changed !== 1) throw new InternalError(`no plan ${planId} to record job ids on`, { hint: 'this is a bug in hfhpc; please report it' });
    insertEvent(db, store.now(), { kind: 'jobs-submitted', planId, detail: { jobIds } });
  });
}
