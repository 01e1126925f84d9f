// Splits an image reference into the fromImage/tag pair the docker CLI sends to POST /images/create.

export interface PullRef {
  /** Familiar name: busybox, library prefix and docker.io dropped as docker does. */
  fromImage: string;
  /** Tag or digest (sha256:...); latest when the reference had neither. */
  tag: string;
  /** Whether the reference named no tag or digest (docker then prints "Using default tag: latest"). */
  defaultTag: boolean;
  /** The canonical form printed after a pull: docker.io/library/busybox:latest. */
  canonical: string;
}

export function splitPullRef(ref: string): PullRef {
  let name = ref;
  let tag: string | undefined;
  let digest: string | undefined;
  const at = name.indexOf('@');
  if (at >= 0) {
    digest = name.slice(at + 1);
    name = name.slice(0, at);
  }
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
  }
  const canonicalName = canonicalRepo(name);
  const familiar = familiarRepo(canonicalName);
  const apiTag = digest ?? tag ?? 'latest';
  const canonical = digest ? `${canonicalName}@${digest}` : `${canonicalName}:${tag ?? 'latest'}`;
  return { fromImage: familiar, tag: apiTag, defaultTag: !tag && !digest, canonical };
}

/** busybox -> docker.io/library/busybox; a first component with '.', ':' or localhost is a registry. */
export function canonicalRepo(name: string): string {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    return first === 'index.docker.io' ? `docker.io/${name.slice(slash + 1)}` : name;
  }
  return slash < 0 ? `docker.io/library/${name}` : `docker.io/${name}`;
}

export function familiarRepo(canonical: string): string {
  if (canonical.startsWith('docker.io/library/') && !canonical.slice('docker.io/library/'.length).includes('/')) {
    return canonical.slice('docker.io/library/'.length);
  }
  if (canonical.startsWith('docker.io/')) return canonical.slice('docker.io/'.length);
  return canonical;
}
