// A file node's hashes as the Hub reports them (tree oid, lfs.oid, pointer size, cache blob
// name). LFS objects are also registered by sha256 so the CDN can serve them.
import type { ContentSource } from '../content/content-source.js';
import { gitBlobSha1 } from '../content/hash-content.js';
import type { HashCache } from '../content/hash-cache.js';
import type { FileInfo } from '../types.js';
import { lfsPointer } from './lfs-pointer.js';
import type { FileNode } from './model.js';

export type FileMetaInfo = Omit<FileInfo, 'path' | 'lastCommit'>;

export class FileMeta {
  /** LFS content by sha256: what the CDN serves. */
  readonly lfsObjects = new Map<string, ContentSource>();

  constructor(private readonly hashes: HashCache) {}

  private finish(node: FileNode, hash: string): FileMetaInfo {
    if (!node.lfs) return { size: node.size, oid: hash, blob: hash };
    this.lfsObjects.set(hash, node.source);
    const pointer = lfsPointer({ sha256: hash, size: node.size });
    return { size: node.size, oid: gitBlobSha1(pointer), lfs: { oid: hash, size: node.size, pointerSize: pointer.length }, blob: hash };
  }

  /** Hashes without blocking the event loop (big files are hashed in slices). */
  async info(node: FileNode): Promise<FileMetaInfo> {
    return this.finish(node, await this.hashes.get(node.source, node.lfs ? 'sha256' : 'gitSha1'));
  }

  /** Hashes synchronously: for tests and small files. */
  infoSync(node: FileNode): FileMetaInfo {
    return this.finish(node, this.hashes.getSync(node.source, node.lfs ? 'sha256' : 'gitSha1'));
  }
}
