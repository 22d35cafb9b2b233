/** Outcome of one doctor check: `warn` is shown but does not fail the run; `skip` did not apply. */
export type CheckStatus = 'ok' | 'fail' | 'warn' | 'skip';

export interface CheckResult {
  /** Stable id for scripts (`node`, `token`, `sqlite-locking`…). */
  id: string;
  status: CheckStatus;
  /** One line: what was found. Never contains a token. */
  detail: string;
  /** What to do about it, when not ok. */
  fix?: string;
}

/** What the checks look at; every I/O seam is injectable for tests. */
export interface DoctorContext {
  root: string;
  dbPath: string;
  hubUrl: string;
  env: NodeJS.ProcessEnv;
  /** Node version without the `v`. Default: process.versions.node. */
  nodeVersion: string;
  fetch: typeof fetch;
  /** Time limit for each network request, ms. */
  timeoutMs: number;
  /** Filled in by earlier checks for later ones (so the token is looked up once). */
  facts: {
    token?: string;
    tokenSource?: string;
    hubReachable?: boolean;
  };
}

export type DoctorCheck = (ctx: DoctorContext) => Promise<CheckResult | CheckResult[]>;
