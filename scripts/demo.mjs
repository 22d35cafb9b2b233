// `npm run demo`: the whole job on this machine against fakehub, no network, no Slurm.
// Starts fakehub with datasets/demo-hub.yaml, runs `hfhpc run --manifest datasets/demo.yaml
// --local -j 2` against it, shows the final status and the snapshot tree, stops fakehub.
// Exit code: the run's (0 when every file is downloaded and verified).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readdir, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const hfhpc = join(repo, 'packages/cli/dist/bin.js');
const fakehubBin = join(repo, 'packages/fakehub/dist/bin.js');
const manifest = join(repo, 'datasets/demo.yaml');
// The manifest's root (relative to datasets/), given explicitly too so status finds the same
// database; git-ignored like everything downloaded under datasets/.
const root = join(repo, 'datasets/demo-root');
const say = (line) => process.stdout.write(`\n== ${line}\n`);

function run(args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit', cwd: repo, ...opts });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

async function waitForFile(path, child, ms) {
  const end = Date.now() + ms;
  while (!existsSync(path)) {
    if (child.exitCode !== null) throw new Error(`fakehub exited with ${child.exitCode} before it was ready`);
    if (Date.now() > end) throw new Error(`fakehub not ready after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** A short `find`-like listing of each repo's snapshot: path -> blob, a few per folder. */
async function showTree(perRepo = 14) {
  for (const dir of (await readdir(root).catch(() => [])).filter((d) => d.startsWith('datasets--')).sort()) {
    const snapshots = join(root, dir, 'snapshots');
    for (const commit of await readdir(snapshots).catch(() => [])) {
      const lines = [];
      const walk = async (d) => {
        for (const e of (await readdir(d, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
          const p = join(d, e.name);
          if (e.isDirectory()) await walk(p);
          else lines.push(`  ${relative(snapshots, p)} -> ${(await readlink(p)).replace(/blobs\/(\w{12})\w+$/, 'blobs/$1…')}`);
        }
      };
      await walk(join(snapshots, commit));
      console.log(`${relative(repo, join(root, dir))}/snapshots/ (${lines.length} files; refs/main = ${readFileSync(join(root, dir, 'refs/main'), 'utf8').slice(0, 12)}…)`);
      for (const l of lines.slice(0, perRepo)) console.log(l);
      if (lines.length > perRepo) console.log(`  … and ${lines.length - perRepo} more`);
    }
  }
}

const scratch = mkdtempSync(join(tmpdir(), 'hfhpc-demo-'));
const readyFile = join(scratch, 'fakehub.json');
say('starting fakehub (a local Hub + CDN on loopback) with datasets/demo-hub.yaml');
const hub = spawn(process.execPath, [fakehubBin, '--config', join(repo, 'datasets/demo-hub.yaml'), '--port', '0', '--cdn-port', '0', '--ready-file', readyFile], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
const stopHub = () => {
  if (hub.exitCode === null) hub.kill('SIGTERM');
};
process.on('exit', stopHub);
// Ctrl-C reaches the whole process group; let the run finish its own shutdown (exit 75).
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => undefined);

let code = 1;
try {
  const ready = await waitForFile(readyFile, hub, 30_000);
  console.log(`fakehub: hub ${ready.hubUrl}, cdn ${ready.cdnUrl}; repos: ${ready.repos.map((r) => r.id).join(', ')}`);
  say(`hfhpc run --manifest datasets/demo.yaml --local -j 2 --root ${relative(repo, root)} --hub-url ${ready.hubUrl}`);
  code = await run([hfhpc, 'run', '--manifest', manifest, '--local', '-j', '2', '--root', root, '--hub-url', ready.hubUrl, '--progress-interval', '1']);
  say(`hfhpc status --root ${relative(repo, root)}`);
  await run([hfhpc, 'status', '--root', root]);
  say(`the Hugging Face cache layout under ${relative(repo, root)} (load it with HF_HUB_CACHE=${relative(repo, root)} HF_HUB_OFFLINE=1)`);
  await showTree();
  say(code === 0 ? 'done: every file downloaded and verified (run the demo again: nothing is fetched twice)' : `the run exited with ${code}`);
} catch (err) {
  console.error(`demo: ${err.message}`);
} finally {
  stopHub();
  await new Promise((r) => (hub.exitCode !== null ? r() : hub.once('exit', r)));
  rmSync(scratch, { recursive: true, force: true });
}
process.exitCode = code;
