import { checkDatabase } from './check-database.js';
import { checkHubReachable, checkTokenFound, checkTokenValid } from './check-hub.js';
import { checkLocking } from './check-locking.js';
import { checkNode } from './check-node.js';
import { checkRoot } from './check-root.js';
import { checkSlurm } from './check-slurm.js';
import { checkSpace } from './check-space.js';
import type { CheckResult, DoctorCheck, DoctorContext } from './doctor-types.js';

/** The checks in the order they print; later ones use what earlier ones found (`ctx.facts`). */
export const DOCTOR_CHECKS: readonly DoctorCheck[] = [
  checkNode,
  checkTokenFound,
  checkHubReachable,
  checkTokenValid,
  checkRoot,
  checkSpace,
  checkLocking,
  checkDatabase,
  checkSlurm,
];

export interface RunDoctorParams {
  root: string;
  dbPath: string;
  hubUrl: string;
  /** Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default: globalThis.fetch. */
  fetch?: typeof fetch;
  /** Per network request, ms. Default 15000. */
  timeoutMs?: number;
  /** Default: process.versions.node. */
  nodeVersion?: string;
  /** Default: DOCTOR_CHECKS. */
  checks?: readonly DoctorCheck[];
}

export interface DoctorReport {
  ok: boolean;
  checks: CheckResult[];
}

/** Run every check (a check that throws is reported as failed, the rest still run). */
export async function runDoctor(params: RunDoctorParams): Promise<DoctorReport> {
  const ctx: DoctorContext = {
    root: params.root,
    dbPath: params.dbPath,
    hubUrl: params.hubUrl,
    env: params.env ?? process.env,
    nodeVersion: params.nodeVersion ?? process.versions.node,
    fetch: params.fetch ?? globalThis.fetch,
    timeoutMs: params.timeoutMs ?? 15_000,
    facts: {},
  };
  const checks: CheckResult[] = [];
  for (const check of params.checks ?? DOCTOR_CHECKS) {
    try {
      const r = await check(ctx);
      checks.push(...(Array.isArray(r) ? r : [r]));
    } catch (err) {
      checks.push({ id: check.name || 'check', status: 'fail', detail: `check crashed: ${(err as Error).message}`, fix: 'this is a bug in hfhpc; please report it' });
    }
  }
  return { ok: checks.every((c) => c.status !== 'fail'), checks };
}

const MARK: Record<CheckResult['status'], string> = { ok: '✓', fail: '✗', warn: '!', skip: '-' };

/** One line per check, the fix indented under anything not ok. */
export function formatDoctor(report: DoctorReport): string {
  const lines: string[] = [];
  for (const c of report.checks) {
    lines.push(`${MARK[c.status]} ${c.id.padEnd(14)} ${c.detail}`);
    if (c.fix && c.status !== 'ok' && c.status !== 'skip') lines.push(`  ${' '.repeat(15)}fix: ${c.fix}`);
  }
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  const warned = report.checks.filter((c) => c.status === 'warn').length;
  lines.push(failed ? `${failed} check${failed === 1 ? '' : 's'} failed` : `all checks passed${warned ? ` (${warned} warning${warned === 1 ? '' : 's'})` : ''}`);
  return `${lines.join('\n')}\n`;
}
