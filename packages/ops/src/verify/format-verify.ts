import { formatBytes } from '@hfhpc/core';
import type { VerifyReport } from './run-verify.js';

/** The human summary of a verify run; bad files one per line with what to do. */
export function formatVerify(r: VerifyReport, options: { maxListed?: number } = {}): string {
  const { maxListed = 50 } = options;
  const out: string[] = [];
  out.push(
    `plan ${r.plan_id}: ${r.files_checked} files checked (${r.blobs_checked} blobs, ${formatBytes(r.bytes_checked)}; ` +
      `${r.blobs_hashed} blobs hashed, ${formatBytes(r.bytes_hashed)}), ${r.files_ok} ok, ${r.bad.length} bad, ` +
      `${r.files_skipped} unchanged since verified (--force re-hashes), ${r.files_not_done} not downloaded yet`,
  );
  for (const b of r.bad.slice(0, maxListed)) {
    out.push(`✗ ${b.repo}: ${b.path}: ${b.problem}: ${b.detail}${b.quarantined_to ? ` (moved to ${b.quarantined_to})` : ''}`);
  }
  if (r.bad.length > maxListed) out.push(`… ${r.bad.length - maxListed} more (verify --json lists every file)`);
  if (r.bad.length) out.push('the bad files are pending again: fetch them with `hfhpc plan --manifest <file> --submit` (done files stay done) or `hfhpc run --manifest <file> --local`');
  if (r.unplanned_blobs.length) {
    const bytes = r.unplanned_blobs.reduce((s, b) => s + b.size, 0);
    out.push(`! ${r.unplanned_blobs.length} blob file(s) (${formatBytes(bytes)}) in the datasets' folders belong to no planned file (an older commit?):`);
    for (const b of r.unplanned_blobs.slice(0, 10)) out.push(`    ${b.path}`);
    if (r.unplanned_blobs.length > 10) out.push(`    … ${r.unplanned_blobs.length - 10} more`);
  }
  return `${out.join('\n')}\n`;
}
