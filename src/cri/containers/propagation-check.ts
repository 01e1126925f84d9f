// containerd refuses a HOST_TO_CONTAINER mount whose source is on a private mount and a
// BIDIRECTIONAL one whose source is not on a shared mount: the bind would silently propagate
// nothing. The mount holding a path is the longest mount point above it in /proc/self/mountinfo.
import { readFile } from 'node:fs/promises';
import { InvalidParameterError } from '../../errors.js';
import type { BindMount } from '../../runtime/oci-spec.js';

export interface MountEntry {
  mountPoint: string;
  shared: boolean;
  slave: boolean;
}

/** mountinfo escapes space, tab, newline and backslash as octal (\040...). */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-');
    if (f.length < 7 || dash < 6) continue;
    const optional = f.slice(6, dash);
    out.push({
      mountPoint: unescape(f[4]!),
      shared: optional.some((o) => o.startsWith('shared:')),
      slave: optional.some((o) => o.startsWith('master:')),
    });
  }
  return out;
}

/** The mount `path` (absolute, symlinks resolved) lives on; the last one wins when stacked. */
export function mountOf(path: string, mounts: MountEntry[]): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const m of mounts) {
    const mp = m.mountPoint;
    const under = mp === '/' || path === mp || path.startsWith(`${mp}/`);
    if (under && (!best || mp.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

export function checkPropagation(bind: BindMount, mounts: MountEntry[]): void {
  const p = bind.propagation;
  if (p !== 'rshared' && p !== 'rslave') return;
  const m = mountOf(bind.source, mounts);
  if (!m) return;
  if (p === 'rshared' && !m.shared) {
    throw new InvalidParameterError(`path ${JSON.stringify(bind.source)} is mounted on ${JSON.stringify(m.mountPoint)} but it is not a shared mount`);
  }
  if (p === 'rslave' && !m.shared && !m.slave) {
    throw new InvalidParameterError(`path ${JSON.stringify(bind.source)} is mounted on ${JSON.stringify(m.mountPoint)} but it is not a shared or slave mount`);
  }
}

export async function checkPropagations(binds: BindMount[]): Promise<void> {
  if (!binds.some((b) => b.propagation === 'rshared' || b.propagation === 'rslave')) return;
  const mounts = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
  for (const b of binds) checkPropagation(b, mounts);
}
