// The host's device nodes, handed to privileged containers (containerd oci.HostDevices) and
// named one by one with --device.
import { lstat, readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import type { OciDevice } from './oci-spec.js';

// Directories that are mounted fresh in the container or hold no real devices.
const SKIP = new Set(['/dev/pts', '/dev/shm', '/dev/fd', '/dev/mqueue', '/dev/.lxc', '/dev/.udev']);

function deviceOf(path: string, st: Stats): OciDevice | undefined {
  if (!st.isCharacterDevice() && !st.isBlockDevice()) return undefined;
  // rdev can exceed 2^32; use arithmetic that survives that.
  const rdev = st.rdev;
  const hi = Math.floor(rdev / 2 ** 32);
  const lo = rdev >>> 0;
  return {
    type: st.isCharacterDevice() ? 'c' : 'b',
    path,
    major: ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0),
    minor: (lo & 0xff) | ((lo >>> 12) & 0xfff00),
    fileMode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
  };
}

/** The device node at `path` (symlinks followed, as moby's devices.DeviceFromPath), or undefined. */
export async function hostDevice(path: string): Promise<OciDevice | undefined> {
  const st = await stat(path).catch(() => undefined);
  return st ? deviceOf(path, st) : undefined;
}

export async function listHostDevices(dir = '/dev'): Promise<OciDevice[]> {
  const devices: OciDevice[] = [];
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return devices;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (SKIP.has(path)) continue;
    const st = await lstat(path).catch(() => undefined);
    if (!st) continue;
    if (st.isDirectory()) {
      devices.push(...(await listHostDevices(path)));
    } else if (path !== '/dev/console') {
      // runc sets up the console itself
      const device = deviceOf(path, st);
      if (device) devices.push(device);
    }
  }
  return devices;
}
