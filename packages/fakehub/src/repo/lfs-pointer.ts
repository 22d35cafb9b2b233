// The LFS pointer file git stores in place of an LFS file's content.

export function lfsPointer(params: { sha256: string; size: number }): Buffer {
  return Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${params.sha256}\nsize ${params.size}\n`, 'utf8');
}
