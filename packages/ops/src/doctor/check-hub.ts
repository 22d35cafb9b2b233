import { findToken } from '@hfhpc/core';
import type { CheckResult, DoctorContext } from './doctor-types.js';

const TOKEN_FIX = 'run `hf auth login` (writes ~/.cache/huggingface/token) or export HF_TOKEN in your shell profile, never in a job script';

/** Where the token comes from (named, never shown). Public datasets work without one: a warning. */
export async function checkTokenFound(ctx: DoctorContext): Promise<CheckResult> {
  let found;
  try {
    found = await findToken({ env: ctx.env });
  } catch (err) {
    return { id: 'token', status: 'fail', detail: (err as Error).message, fix: 'chmod 600 the token file, owned by you, or set HF_TOKEN' };
  }
  if (!found.token) {
    return {
      id: 'token',
      status: 'warn',
      detail: `no token found${found.path ? ` (looked at ${found.path})` : ''}: gated and private datasets will fail, and anonymous requests get a smaller rate limit`,
      fix: TOKEN_FIX,
    };
  }
  ctx.facts.token = found.token;
  ctx.facts.tokenSource = found.source;
  const where = found.path ? `${found.source} (${found.path})` : found.source;
  return { id: 'token', status: 'ok', detail: `token found in ${where}` };
}

/**
 * The Hub's dataset listing must answer 2xx: a network failure, a 404 (not a Hub at that URL: a
 * wrong --hub-url or a proxy's page) or a 5xx fail; a 429 means reachable but rate-limited.
 */
export async function checkHubReachable(ctx: DoctorContext): Promise<CheckResult> {
  let res: Response;
  try {
    res = await ctx.fetch(`${ctx.hubUrl}/api/datasets?limit=1`, { method: 'GET', signal: AbortSignal.timeout(ctx.timeoutMs) });
    await res.body?.cancel();
  } catch (err) {
    ctx.facts.hubReachable = false;
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    return {
      id: 'hub',
      status: 'fail',
      detail: `${ctx.hubUrl} is not reachable (${cause})`,
      fix: 'check the compute nodes\' outbound access (proxy: HTTPS_PROXY), or set --hub-url / HF_ENDPOINT to a reachable mirror',
    };
  }
  ctx.facts.hubReachable = true;
  if (res.ok) return { id: 'hub', status: 'ok', detail: `${ctx.hubUrl} answered (HTTP ${res.status})` };
  if (res.status === 429) {
    return { id: 'hub', status: 'warn', detail: `${ctx.hubUrl} answered 429: rate-limited right now`, fix: 'wait a few minutes; plan and work retry after the pause the Hub asks for' };
  }
  return {
    id: 'hub',
    status: 'fail',
    detail: `${ctx.hubUrl}/api/datasets answered HTTP ${res.status}${res.status === 404 ? ': this URL is not a Hugging Face Hub' : ''}`,
    fix: res.status >= 500 ? 'the Hub has trouble: run hfhpc doctor again later' : 'check --hub-url / HF_ENDPOINT (the Hub\'s base URL, e.g. https://huggingface.co) and any proxy in between',
  };
}

/** One whoami-v2 call (the Hub rate-limits it hard, so never more than one per run). */
export async function checkTokenValid(ctx: DoctorContext): Promise<CheckResult> {
  if (!ctx.facts.token) return { id: 'token-valid', status: 'skip', detail: 'no token to check' };
  if (ctx.facts.hubReachable === false) return { id: 'token-valid', status: 'skip', detail: 'Hub not reachable, token not checked' };
  try {
    // @huggingface/hub is loaded for this one call, not when @hfhpc/ops is imported.
    const { whoAmI } = await import('@huggingface/hub');
    const me = await whoAmI({ accessToken: ctx.facts.token, hubUrl: ctx.hubUrl, fetch: withTimeout(ctx.fetch, ctx.timeoutMs) });
    return { id: 'token-valid', status: 'ok', detail: `token is valid: ${me.type} ${me.name}` };
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    return {
      id: 'token-valid',
      status: 'fail',
      detail: status === 401 ? 'the Hub refused the token (401: invalid or revoked)' : `whoami failed: ${(err as Error).message}`,
      fix: status === 401 ? `create a new read token at https://huggingface.co/settings/tokens; then ${TOKEN_FIX}` : 'run `hfhpc doctor` again; if it persists check the hub URL',
    };
  }
}

function withTimeout(f: typeof fetch, ms: number): typeof fetch {
  return (input, init) => f(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(ms) });
}
