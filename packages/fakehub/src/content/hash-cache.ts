// Hashes are computed once per process (memory) and, for big generated files, once per
// machine (a small JSON file per (seed, size) under os.tmpdir()), so a 4 GiB benchmark file
// is not re-hashed at every start.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContentSource } from './content-source.js';
import { hashContent, hashContentSync, type HashKind } from './hash-content.js';

/** Bumped whenever the generator changes, so stale cache files are never read. */
const GENERATOR_VERSION = 'v1';

export interface HashCacheOptions {
  /** Folder for the per-machine cache; false disables it. Default `<tmpdir>/hfhpc-fakehub-hashes`. */
  dir?: string | false;
  /** Only generated files at least this big go to disk (default 64 MiB). */
  minDiskBytes?: number;
}

export class HashCache {
  private readonly memory = new Map<string, string>();
  private readonly textMemory = new WeakMap<Buffer, Map<HashKind, string>>();
  private readonly pending = new Map<string, Promise<string>>();
  private readonly dir: string | false;
  private readonly minDiskBytes: number;

  constructor(options: HashCacheOptions = {}) {
    this.dir = options.dir === undefined ? join(tmpdir(), 'hfhpc-fakehub-hashes') : options.dir;
    this.minDiskBytes = options.minDiskBytes ?? 64 << 20;
  }

  /** The hash if already known (memory or disk), without computing it. */
  peek(source: ContentSource, kind: HashKind): string | undefined {
    if (source.kind === 'text') return this.textMemory.get(source.bytes)?.get(kind);
    const key = `${source.seed}:${source.size}:${kind}`;
    const known = this.memory.get(key);
    if (known) return known;
    const fromDisk = this.readDisk(source)?.[kind];
    if (fromDisk) this.memory.set(key, fromDisk);
    return fromDisk;
  }

  /** Compute (or recall) synchronously. */
  getSync(source: ContentSource, kind: HashKind): string {
    const known = this.peek(source, kind);
    if (known) return known;
    const value = hashContentSync({ source, kind });
    this.remember(source, kind, value);
    return value;
  }

  /** Compute (or recall) without blocking the event loop; concurrent callers share one run. */
  async get(source: ContentSource, kind: HashKind): Promise<string> {
    const known = this.peek(source, kind);
    if (known) return known;
    if (source.kind === 'text') return this.getSync(source, kind);
    const key = `${source.seed}:${source.size}:${kind}`;
    let run = this.pending.get(key);
    if (!run) {
      run = hashContent({ source, kind }).then((value) => {
        this.remember(source, kind, value);
        return value;
      });
      run.finally(() => this.pending.delete(key)).catch(() => undefined);
      this.pending.set(key, run);
    }
    return run;
  }

  private remember(source: ContentSource, kind: HashKind, value: string): void {
    if (source.kind === 'text') {
      let m = this.textMemory.get(source.bytes);
      if (!m) this.textMemory.set(source.bytes, (m = new Map<HashKind, string>()));
      m.set(kind, value);
      return;
    }
    this.memory.set(`${source.seed}:${source.size}:${kind}`, value);
    this.writeDisk(source, kind, value);
  }

  private diskPath(source: { seed: number; size: number }): string | undefined {
    if (this.dir === false || source.size < this.minDiskBytes) return undefined;
    return join(this.dir, `${GENERATOR_VERSION}-${source.seed}-${source.size}.json`);
  }

  private readDisk(source: { seed: number; size: number }): Partial<Record<HashKind, string>> | undefined {
    const file = this.diskPath(source);
    if (!file) return undefined;
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      return parsed && typeof parsed === 'object' ? parsed : undefined;
    } catch {
      return undefined; // absent or unreadable: compute instead
    }
  }

  private writeDisk(source: { seed: number; size: number }, kind: HashKind, value: string): void {
    const file = this.diskPath(source);
    if (!file || this.dir === false) return;
    try {
      mkdirSync(this.dir, { recursive: true });
      const merged = { ...this.readDisk(source), [kind]: value };
      // Atomic: a concurrent reader sees the old file or the new one, never half of it.
      const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      writeFileSync(tmp, JSON.stringify(merged));
      renameSync(tmp, file);
    } catch {
      // The cache is an optimisation; a read-only tmpdir must not break the server.
    }
  }
}
