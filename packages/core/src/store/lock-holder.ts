// The lock holder of the doctor's locking probe (`probe-sqlite-locking.ts` starts it by path as a
// child process): `node lock-holder.js <database>` opens the scratch database, takes the
// write lock with BEGIN IMMEDIATE, says `locked` on stdout and holds the lock until its stdin
// closes, then commits and exits 0.
import Database from 'better-sqlite3';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: lock-holder.js <scratch database>\n');
  process.exit(2);
}
const db = new Database(file, { timeout: 0 });
db.exec('BEGIN IMMEDIATE');
db.exec('INSERT INTO probe (at) VALUES (1)');
process.stdout.write('locked\n');
process.stdin.resume();
process.stdin.on('end', () => {
  db.exec('COMMIT');
  db.close();
  process.exit(0);
});
