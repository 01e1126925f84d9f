// A CRI LinuxContainerSecurityContext in berth's terms, by containerd 1.6's rules (not Docker's):
// capabilities with ALL applied first, privileged meaning unconfined and unmasked, seccomp absent
// meaning unconfined, masked/readonly lists that replace the defaults when non-empty.
import { InvalidParameterError } from '../../errors.js';
import { DEFAULT_CAPABILITIES, allCapabilities, missingBoundingCapabilities, normalizeCapability } from '../../runtime/capabilities.js';
import type { LinuxContainerSecurityContext, SecurityProfile } from './cri-types.js';

export type SeccompChoice =
  | { kind: 'unconfined' }
  | { kind: 'runtime-default' }
  /** A JSON profile file on the host, read at create. */
  | { kind: 'localhost'; path: string };

export interface CriSecurity {
  privileged: boolean;
  /** The exact capability set; undefined = the runtime's default set (privileged: the daemon's own). */
  capabilities?: string[];
  seccomp: SeccompChoice;
  noNewPrivileges: boolean;
  /** undefined = the runtime's defaults; [] for a privileged container. */
  maskedPaths?: string[];
  readonlyPaths?: string[];
  readonlyRootfs: boolean;
  /** Docker's User form (`uid`, `name`, `user:gid`); '' = the image's USER. */
  user: string;
  supplementalGroups: number[];
  /** Strict: the image's /etc/group memberships are not added (Merge, the zero, adds them). */
  strictGroups: boolean;
}

const int = (v: string | number | undefined): string => String(v ?? 0);

/** containerd generateUserString: username wins over uid; a group needs a user. */
export function userString(sc: LinuxContainerSecurityContext): string {
  let user = '';
  if (sc.runAsUser) user = int(sc.runAsUser.value);
  if (sc.runAsUsername) user = sc.runAsUsername;
  const group = sc.runAsGroup ? int(sc.runAsGroup.value) : '';
  if (!user) {
    if (group) throw new InvalidParameterError(`failed to generate user string: user group "${group}" is specified without user`);
    return '';
  }
  return group ? `${user}:${group}` : user;
}

/**
 * Every capability this daemon can hand on: containerd gives a privileged container, and "ALL",
 * its own set (cap.Current), not every capability the kernel knows, so that both work on a host
 * (a VM, an outer container) whose bounding set withholds some.
 */
export function currentCapabilities(): string[] {
  const missing = new Set(missingBoundingCapabilities());
  return allCapabilities().filter((c) => !missing.has(c));
}

/**
 * containerd's WithCapabilities: "ALL" in add sets every capability and "ALL" in drop clears them
 * before the single adds and drops, so {add: [ALL], drop: [CHOWN]} is everything but CHOWN.
 */
export function capabilitySet(caps: LinuxContainerSecurityContext['capabilities']): string[] | undefined {
  if (!caps) return undefined;
  const add = caps.addCapabilities ?? [];
  const drop = caps.dropCapabilities ?? [];
  if (!add.length && !drop.length) return undefined;
  const isAll = (c: string) => c.toUpperCase() === 'ALL';
  let set = [...DEFAULT_CAPABILITIES];
  if (add.some(isAll)) set = currentCapabilities();
  if (drop.some(isAll)) set = [];
  for (const c of add) {
    if (isAll(c)) continue;
    const name = normalizeCapability(c);
    if (!set.includes(name)) set.push(name);
  }
  const dropped = new Set(drop.filter((c) => !isAll(c)).map(normalizeCapability));
  return set.filter((c) => !dropped.has(c));
}

/**
 * The seccomp profile: the `seccomp` field when present (its zero value, RuntimeDefault, counts:
 * `seccomp: {}` is the runtime's default), else the deprecated `seccomp_profile_path` string,
 * where "" means unconfined.
 */
export function seccompChoice(profile: SecurityProfile | undefined, legacyPath: string | undefined): SeccompChoice {
  if (profile) {
    switch (profile.profileType ?? 'RuntimeDefault') {
      case 'RuntimeDefault':
        return { kind: 'runtime-default' };
      case 'Unconfined':
        return { kind: 'unconfined' };
      case 'Localhost':
        return localhost(profile.localhostRef ?? '');
      default:
        throw new InvalidParameterError(`unsupported seccomp profile type ${String(profile.profileType)}`);
    }
  }
  const path = legacyPath ?? '';
  if (path === '' || path === 'unconfined') return { kind: 'unconfined' };
  if (path === 'runtime/default' || path === 'docker/default') return { kind: 'runtime-default' };
  if (path.startsWith('localhost/')) return localhost(path.slice('localhost/'.length));
  throw new InvalidParameterError(`unsupported seccomp profile ${JSON.stringify(path)}`);
}

function localhost(path: string): SeccompChoice {
  if (!path.startsWith('/')) throw new InvalidParameterError(`seccomp localhost profile ${JSON.stringify(path)} is not an absolute path`);
  return { kind: 'localhost', path };
}

function numbers(list: (string | number)[] | undefined): number[] {
  return (list ?? []).map((g) => {
    const n = Number(g);
    if (!Number.isInteger(n) || n < 0 || n > 4294967295) throw new InvalidParameterError(`invalid supplemental group ${String(g)}`);
    return n;
  });
}

function groupsPolicy(p: string | undefined): 'Merge' | 'Strict' {
  if (p === undefined || p === 'Merge') return 'Merge';
  if (p === 'Strict') return 'Strict';
  throw new InvalidParameterError(`unsupported supplemental groups policy ${JSON.stringify(p)}`);
}

/** `podPrivileged`: the pod's own security context; a privileged container needs a privileged pod. */
export function criSecurity(sc: LinuxContainerSecurityContext | undefined, podPrivileged: boolean): CriSecurity {
  const ctx = sc ?? {};
  const privileged = ctx.privileged === true;
  if (privileged && !podPrivileged) throw new InvalidParameterError('no privileged container allowed in sandbox');
  const nonEmpty = (l: string[] | undefined) => (l && l.length ? [...l] : undefined);
  return {
    privileged,
    capabilities: privileged ? currentCapabilities() : capabilitySet(ctx.capabilities),
    // CRI ignores the profile of a privileged container (Docker would apply a named one)
    seccomp: privileged ? { kind: 'unconfined' } : seccompChoice(ctx.seccomp, ctx.seccompProfilePath),
    noNewPrivileges: ctx.noNewPrivs === true,
    maskedPaths: privileged ? [] : nonEmpty(ctx.maskedPaths),
    readonlyPaths: privileged ? [] : nonEmpty(ctx.readonlyPaths),
    readonlyRootfs: ctx.readonlyRootfs === true,
    user: userString(ctx),
    supplementalGroups: numbers(ctx.supplementalGroups),
    strictGroups: groupsPolicy(ctx.supplementalGroupsPolicy) === 'Strict',
  };
}
