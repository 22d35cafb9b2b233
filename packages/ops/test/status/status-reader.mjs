// Child process for the reader-storm test: read the status of the database in a tight loop
// (open read-only, readStatus, close), like back-to-back `hfhpc status --json`, until stdin
// closes; a first line once it has read once, then one JSON line: the number of reads and the files_done of each, in order.
// usage: node status-reader.mjs <db>
import { openStore } from '../../../core/dist/index.js';
import { readStatus } from '../../dist/index.js';

const [dbPath] = process.argv.slice(2);
let stop = false;
process.stdin.on('end', () => (stop = true)).resume();
const seen = [];
let errors = 0;
while (!stop) {
  try {
    const store = openStore({ path: dbPath, readonly: true, create: false });
    try {
      const r = readStatus({ store });
      seen.push([r.totals.files_done, r.totals.files]);
      if (seen.length === 1) process.stdout.write('{"ready":true}\n');
    } finally {
      store.close();
    }
  } catch (err) {
    errors++;
    process.stderr.write(`${err?.message ?? err}\n`);
  }
  await new Promise((r) => setImmediate(r));
}
process.stdout.write(`${JSON.stringify({ reads: seen.length, errors, seen })}\n`);
