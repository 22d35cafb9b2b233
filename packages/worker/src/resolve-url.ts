/**
 * `{hub}/datasets/{repo}/resolve/{commit}/{path}`: each path segment percent-encoded on its own
 * (spaces, `+`, `#`, `?`, `%`, non-ASCII), the commit pinned, never a branch name.
 */
export function resolveUrl(params: { hubUrl: string; repo: string; commit: string; path: string }): string {
  const base = params.hubUrl.replace(/\/+$/, '');
  const path = params.path.split('/').map(encodeURIComponent).join('/');
  return `${base}/datasets/${params.repo}/resolve/${params.commit}/${path}`;
}
