// After a build: make the workspace binaries executable and make sure npm's links to them
// exist (npm links bins at install time, before `prepare` has built dist/).
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, lstatSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const binDir = join(root, 'node_modules', '.bin');
for (const pkg of ['cli', 'fakehub']) {
  const dir = join(root, 'packages', pkg);
  const { bin = {} } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const [name, file] of Object.entries(bin)) {
    const target = join(dir, file);
    if (!existsSync(target)) continue;
    chmodSync(target, 0o755);
    mkdirSync(binDir, { recursive: true });
    const link = join(binDir, name);
    let present = false;
    try { lstatSync(link); present = true; } catch { /* absent */ }
    if (!present) symlinkSync(relative(binDir, target), link);
  }
}
