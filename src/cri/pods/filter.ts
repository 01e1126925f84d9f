// ListPodSandbox's filter, as containerd's filterCRISandboxes applies it: an id (full or a
// prefix), a state, and labels that must all be present with equal values.
import type { PodInfo } from './types.js';

/** The decoded PodSandboxFilter (proto-loader with defaults:false: absent fields are undefined). */
export interface PodSandboxFilter {
  id?: string;
  /** PodSandboxStateValue: present but empty means SANDBOX_READY (enum 0 is not on the wire). */
  state?: { state?: string | number };
  labelSelector?: Record<string, string>;
}

export function stateName(v: string | number | undefined): PodInfo['state'] {
  return v === 'SANDBOX_NOTREADY' || v === 1 ? 'SANDBOX_NOTREADY' : 'SANDBOX_READY';
}

export function matchesFilter(p: PodInfo, f: PodSandboxFilter | undefined): boolean {
  if (!f) return true;
  if (f.id && !p.id.startsWith(f.id)) return false;
  if (f.state && p.state !== stateName(f.state.state)) return false;
  for (const [k, v] of Object.entries(f.labelSelector ?? {})) {
    if (p.labels[k] !== v) return false;
  }
  return true;
}
