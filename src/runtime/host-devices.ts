// The host's device nodes, handed to privileged containers (containerd oci.HostDevices).
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { OciDevice } from './oci-spec.js';

// Directories that are mounted fresh in the container or hold no real devices.
const SKIP = new Set(['/dev/pts', '/dev/shm', '/dev/fd', '/dev/mqueue', '/dev/.lxc', '/dev/.udev']);

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
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      if (path === '/dev/console') continue; // runc sets up the console itself
      // rdev can exceed 2^32; use arithmetic that survives that.
      const rdev = st.rdev;
      const hi = Math.floor(rdev / 2 ** 32);
      const lo = rdev >>> 0;
      devices.push({
        type: st.isCharacterDevice() ? 'c' : 'b',
        path,
        major: ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0),
        minor: (lo & 0xff) | ((lo >>> 12) & 0xfff00),
        fileMode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
      });
    }
  }
  return devices;
}
