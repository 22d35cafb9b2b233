// `npm run bench -- ops [--files 100000] [--gib 2] [--concurrency 2]`
// 1. status: how long one `readStatus` holds the database's shared lock on a 100,000-file plan
//    (the time a writer may have to wait for it), next to one bare full scan of the files table.
// 2. verify: `hfhpc verify --force` re-hashing N GiB of LFS blobs, next to `sha256sum` over the
//    same files with the same parallelism (xargs -P), alternating, best of two each.
// Uses the built dist (npm run bench builds first).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const core = await import(new URL('../../packages/core/dist/index.js', import.meta.url).href);
const ops = await import(new URL('../../packages/ops/dist/index.js', import.meta.url).href);
const BIN = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));

const { values } = parseArgs({
  options: { files: { type: 'string', default: '100000' }, gib: { type: 'string', default: '2' }, concurrency: { type: 'string', default: '2' } },
});

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (f) => {
  const t = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t) / 1e6;
};

function statusBench(fileCount) {
  const dir = mkdtempSync(join(tmpdir(), 'hfhpc-bench-ops-'));
  try {
    const store = core.openStore({ path: join(dir, 'state.sqlite') });
    const shards = 1000;
    const files = [];
    for (let i = 0; i < fileCount; i++) {
      const oid = createHash('sha1').update(String(i)).digest('hex');
      files.push({ datasetRepo: `bigcode/bench-${i % 4}`, path: `data/${i}.parquet`, size: 1000 + (i % 5000), oid, blob: oid, shardIdx: i % shards, state: i % 2 ? 'done' : 'pending' });
    }
    const shardRows = Array.from({ length: shards }, (_, idx) => {
      const mine = files.filter((f) => f.shardIdx === idx);
      return { idx, bytesTotal: mine.reduce((s, f) => s + f.size, 0), filesTotal: mine.length };
    });
    const planId = core.createPlan(store, {
      manifestPath: '/m.yaml', manifestSha256: 'ab'.repeat(32), root: dir, hubUrl: 'https://huggingface.co',
      datasets: [0, 1, 2, 3].map((k) => ({ repo: `bigcode/bench-${k}`, revision: 'main', commitSha: 'c'.repeat(40) })),
      shards: shardRows, files,
    });
    for (let s = 0; s < 64; s++) core.claimShard(store, { planId, owner: `1_${s}@n:1`, preferIndex: s, ttlMs: 600_000 });
    const reader = core.openStore({ path: join(dir, 'state.sqlite'), readonly: true });
    const scan = [];
    const status = [];
    for (let k = 0; k < 15; k++) {
      scan.push(ms(() => reader.read((db) => db.prepare('SELECT SUM(size), SUM(bytes_done) FROM files').get())));
      status.push(ms(() => ops.readStatus({ store: reader })));
    }
    reader.close();
    store.close();
    return { scan: median(scan), status: median(status) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function verifyBench(gib, concurrency) {
  const root = mkdtempSync(join(tmpdir(), 'hfhpc-bench-verify-'));
  try {
    const count = 16;
    const size = Math.floor((gib * 2 ** 30) / count);
    const block = randomBytes(1 << 20);
    const repo = 'bigcode/bench-verify';
    const layout = core.cacheLayout(root, repo);
    mkdirSync(layout.blobsDir, { recursive: true });
    const commit = 'd'.repeat(40);
    const files = [];
    for (let i = 0; i < count; i++) {
      // Each file differs (its index in the first bytes), the rest repeats one random block.
      const tmp = join(layout.blobsDir, `tmp-${i}`);
      const fd = openSync(tmp, 'w');
      const hash = createHash('sha256');
      for (let off = 0; off < size; off += block.length) {
        const chunk = block.subarray(0, Math.min(block.length, size - off));
        if (off === 0) chunk.writeUInt32BE(i, 0);
        writeSync(fd, chunk);
        hash.update(chunk);
      }
      closeSync(fd);
      const sha = hash.digest('hex');
      execFileSync('mv', [tmp, layout.blobPath(sha)]);
      const p = `data/part-${i}.parquet`;
      mkdirSync(join(layout.snapshotDir(commit), 'data'), { recursive: true });
      symlinkSync(layout.blobLinkTarget(p, sha), layout.snapshotPath(commit, p));
      files.push({ datasetRepo: repo, path: p, size, oid: createHash('sha1').update(p).digest('hex'), lfsSha256: sha, blob: sha, shardIdx: 0, state: 'done' });
    }
    const store = core.openStore({ path: join(root, '_hfhpc', 'state.sqlite') });
    core.createPlan(store, {
      manifestPath: '/m.yaml', manifestSha256: 'ab'.repeat(32), root, hubUrl: 'https://huggingface.co',
      datasets: [{ repo, revision: 'main', commitSha: commit }],
      shards: [{ idx: 0, bytesTotal: size * count, filesTotal: count }], files,
    });
    store.close();
    const runRef = () => {
      const t = Date.now();
      const r = spawnSync('sh', ['-c', `ls ${layout.blobsDir}/* | xargs -P ${concurrency} -n 1 sha256sum > /dev/null`]);
      if (r.status !== 0) throw new Error(`sha256sum failed: ${r.stderr}`);
      return (Date.now() - t) / 1000;
    };
    const runOurs = () => {
      const t = Date.now();
      const r = spawnSync(process.execPath, [BIN, 'verify', '--force', '--quiet', '--concurrency', String(concurrency), '--root', root]);
      if (r.status !== 0) throw new Error(`hfhpc verify failed (${r.status}): ${r.stdout}${r.stderr}`);
      return (Date.now() - t) / 1000;
    };
    const ref = [];
    const ours = [];
    for (let k = 0; k < 2; k++) {
      ref.push(runRef());
      ours.push(runOurs());
    }
    return { bytes: size * count, ref: Math.min(...ref), ours: Math.min(...ours) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const s = statusBench(Number(values.files));
console.log(`status on a ${Number(values.files).toLocaleString('en')}-file plan (1,000 shards, 64 leases): readStatus ${s.status.toFixed(1)} ms per look (median of 15); one bare full scan of files ${s.scan.toFixed(1)} ms`);
const v = verifyBench(Number(values.gib), Number(values.concurrency));
const gb = v.bytes / 1e9;
console.log(`verify ${gb.toFixed(2)} GB in 16 LFS blobs, ${values.concurrency} at once (page cache warm, best of 2):`);
console.log(`  sha256sum (xargs -P ${values.concurrency}): ${v.ref.toFixed(2)} s, ${(gb / v.ref).toFixed(2)} GB/s`);
console.log(`  hfhpc verify --force:       ${v.ours.toFixed(2)} s, ${(gb / v.ours).toFixed(2)} GB/s (${(v.ref / v.ours).toFixed(2)}× sha256sum)`);
