// Fault knobs, switchable per test. Each fault matches requests (server, endpoint, repo, file
// path, method), may let the first `skip` matching requests through, and fires `count`
// times (default unlimited; a corrupted byte defaults to once). Every knob returns a handle
// to read how often it fired and to clear it.
import type { CommitSpec, Endpoint, ServerName } from '../types.js';

export interface FaultMatch {
  host?: ServerName;
  endpoint?: Endpoint | Endpoint[];
  /** Repo id (the current one, also for requests sent under an old name). */
  repo?: string;
  /** File path inside the repo (resolve, CDN, tree sub-folder, paths-info is not matched). */
  path?: string | RegExp;
  method?: string;
}

export interface FaultLimits {
  /** Fire this many times, then stay quiet (default: unlimited; corruptBytes: 1). */
  count?: number;
  /** Let this many matching requests through before firing (default 0). */
  skip?: number;
}

export type FaultOptions = FaultMatch & FaultLimits;

export interface RateLimitFault extends FaultOptions {
  /** Retry-After seconds (default 1). */
  retryAfterSeconds?: number;
  /** `seconds` (default), `http-date`, or `none` (send no Retry-After). */
  retryAfterFormat?: 'seconds' | 'http-date' | 'none';
  /** `t` of `RateLimit: "…";r=0;t=N` (default: retryAfterSeconds). */
  resetSeconds?: number;
  /**
   * A global window: every matching request during the next N seconds gets 429, and
   * Retry-After / `t` count down to the window's end.
   */
  forSeconds?: number;
}
export interface ServerErrorFault extends FaultOptions {
  /** Default 503. */
  status?: number;
  retryAfterSeconds?: number;
}
export interface DropConnectionFault extends FaultOptions {
  /** Body bytes sent before the connection is destroyed. */
  afterBytes: number;
}
export interface CorruptBytesFault extends FaultOptions {
  /** File offset of the flipped byte (default: the first byte of the answer's body). */
  offset?: number;
}
export interface BandwidthFault extends FaultOptions {
  bytesPerSecond: number;
}
export interface SlowFirstByteFault extends FaultOptions {
  delayMs: number;
}
export interface MoveBranchFault extends FaultMatch {
  repo: string;
  branch?: string;
  commit?: CommitSpec;
  /** Move once this many matching requests have been answered (default 1). */
  afterRequests?: number;
}
export interface HostileEntryOptions {
  repo: string;
  /** Default `../../etc/passwd`. */
  path?: string;
  /** Size reported for the entry (default 11). */
  size?: number;
}

export type FaultKind =
  | 'rate-limit'
  | 'server-error'
  | 'drop-connection'
  | 'corrupt-bytes'
  | 'bandwidth'
  | 'slow-first-byte'
  | 'ignore-range'
  | 'expire-cdn-url'
  | 'move-branch'
  | 'hostile-entry';

export interface FaultHandle {
  readonly kind: FaultKind;
  /** Times it fired. */
  readonly hits: number;
  /** Firings left (Infinity when unlimited). */
  readonly remaining: number;
  clear(): void;
}

/** What a request is about, for matching. */
export interface FaultTarget {
  host: ServerName;
  endpoint: Endpoint;
  repo?: string;
  path?: string;
  method: string;
}

export class ActiveFault<O extends FaultMatch = FaultMatch> implements FaultHandle {
  hits = 0;
  remaining: number;
  /** Matching requests seen (move-branch counts these). */
  seen = 0;
  private skip: number;
  /** Absolute end of a global window (ms), when the fault has one. */
  until?: number;

  constructor(
    readonly kind: FaultKind,
    readonly options: O & FaultLimits,
    private readonly owner: FaultSet,
  ) {
    this.remaining = options.count ?? (kind === 'corrupt-bytes' ? 1 : Infinity);
    this.skip = options.skip ?? 0;
  }

  matches(t: FaultTarget): boolean {
    const o = this.options;
    if (o.host && o.host !== t.host) return false;
    if (o.endpoint && !(Array.isArray(o.endpoint) ? o.endpoint : [o.endpoint]).includes(t.endpoint)) return false;
    if (o.repo && o.repo !== t.repo) return false;
    if (o.method && o.method.toUpperCase() !== t.method) return false;
    if (o.path !== undefined) {
      if (t.path === undefined) return false;
      if (typeof o.path === 'string' ? o.path !== t.path : !o.path.test(t.path)) return false;
    }
    return true;
  }

  /** Called for a matching request where the fault would apply: fire or not. */
  consume(): boolean {
    if (this.remaining <= 0) return false;
    if (this.skip > 0) {
      this.skip--;
      return false;
    }
    this.remaining--;
    this.hits++;
    return true;
  }

  clear(): void {
    this.owner.remove(this);
  }
}

export class FaultSet {
  private active: ActiveFault<never>[] = [];
  /** Extra tree entries per repo id. */
  readonly hostile = new Map<string, { path: string; size: number; handle: ActiveFault }[]>();

  constructor(private readonly now: () => number) {}

  private add<O extends FaultMatch>(kind: FaultKind, options: O & FaultLimits): ActiveFault<O> {
    const f = new ActiveFault<O>(kind, options, this);
    this.active.push(f as unknown as ActiveFault<never>);
    return f;
  }

  /** 429 with Retry-After and `RateLimit: r=0;t=N`; per path, or a global window with `forSeconds`. */
  rateLimit(options: RateLimitFault = {}): FaultHandle {
    const f = this.add('rate-limit', options);
    if (options.forSeconds !== undefined) f.until = this.now() + options.forSeconds * 1000;
    return f;
  }
  /** 5xx answers (default 503): with `count`, a burst. */
  serverError(options: ServerErrorFault = {}): FaultHandle {
    return this.add('server-error', options);
  }
  /** Send the headers (full length) and `afterBytes` of the body, then destroy the connection. */
  dropConnection(options: DropConnectionFault): FaultHandle {
    return this.add('drop-connection', options);
  }
  /** Flip one byte of a body (once by default); the length stays right. */
  corruptBytes(options: CorruptBytesFault = {}): FaultHandle {
    return this.add('corrupt-bytes', options);
  }
  /** Cap each matching body at about `bytesPerSecond`. */
  bandwidth(options: BandwidthFault): FaultHandle {
    return this.add('bandwidth', options);
  }
  /** Wait `delayMs` before sending the status line. */
  slowFirstByte(options: SlowFirstByteFault): FaultHandle {
    return this.add('slow-first-byte', options);
  }
  /** Answer a Range request with 200 and the whole body. */
  ignoreRange(options: FaultOptions = {}): FaultHandle {
    return this.add('ignore-range', options);
  }
  /** The CDN answers 403 "Request has expired" whatever the URL's expiry. */
  expireCdnUrls(options: FaultOptions = {}): FaultHandle {
    return this.add('expire-cdn-url', { host: 'cdn', ...options });
  }
  /** Move `branch` (default: the default branch) to a new commit after some requests. */
  moveBranch(options: MoveBranchFault): FaultHandle {
    return this.add('move-branch', { ...options, count: 1 });
  }
  /** Add a tree entry with a hostile path (default `../../etc/passwd`) to the repo's listings. */
  hostileTreeEntry(options: HostileEntryOptions): FaultHandle {
    const f = this.add('hostile-entry', { repo: options.repo });
    const list = this.hostile.get(options.repo) ?? [];
    list.push({ path: options.path ?? '../../etc/passwd', size: options.size ?? 11, handle: f });
    this.hostile.set(options.repo, list);
    return f;
  }

  /** The first fault of `kind` that matches and fires for this request (consumes one firing). */
  take<O extends FaultMatch>(kind: FaultKind, target: FaultTarget, applies: (o: O) => boolean = () => true): ActiveFault<O> | undefined {
    const now = this.now();
    for (const f of this.active as unknown as ActiveFault<O>[]) {
      if (f.kind !== kind || !f.matches(target)) continue;
      if (f.until !== undefined && now >= f.until) continue;
      if (!applies(f.options)) continue;
      if (f.consume()) return f;
    }
    return undefined;
  }

  /** Active move-branch triggers matching a request (counted by the caller). */
  moveTriggers(target: FaultTarget): ActiveFault<MoveBranchFault>[] {
    return (this.active as unknown as ActiveFault<MoveBranchFault>[]).filter((f) => f.kind === 'move-branch' && f.remaining > 0 && f.matches(target));
  }

  remove(f: ActiveFault): void {
    this.active = this.active.filter((x) => (x as unknown) !== f);
    for (const [repo, list] of this.hostile) {
      const kept = list.filter((e) => e.handle !== f);
      if (kept.length) this.hostile.set(repo, kept);
      else this.hostile.delete(repo);
    }
  }

  /** Remove every fault. */
  clear(): void {
    this.active = [];
    this.hostile.clear();
  }
}
