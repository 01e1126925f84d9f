// Which stopped containers a starting daemon must clean up after: only a daemon that died
// between recording an exit and its cleanup (or mid-start) leaves a container's files or
// mounts behind. One look at the exec-root and one at the mount table answer it for all of
// them, where asking each container (a few file checks apiece) kept the API of a daemon with
// 10,000 created containers from listening for seconds.
import { readFile } from 'node:fs/promises';
import type { TaskBackend } from '../../runtime/task-backend.js';

const ID = /^[0-9a-f]{64}$/;

/** IDs named by a path component of a mount point under one of the roots (overlay rootfs, /dev/shm). */
export function mountedIds(mountinfo: string, roots: string[]): Set<string> {
  const ids = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    const field = line.split(' ')[4];
    // mountinfo escapes spaces and the like as octal
    const mountPoint = field?.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (mountPoint === undefined || !roots.some((r) => mountPoint.startsWith(`${r}/`))) continue;
    for (const part of mountPoint.split('/')) if (ID.test(part)) ids.add(part);
  }
  return ids;
}

/** IDs that may have something to release: task files under the exec-root or a mount under the data root. */
export async function containersWithLeftovers(backend: Pick<TaskBackend, 'leftoverIds'>, dataRoot: string): Promise<Set<string>> {
  const [tasks, mountinfo] = await Promise.all([backend.leftoverIds(), readFile('/proc/self/mountinfo', 'utf8')]);
  const ids = mountedIds(mountinfo, [dataRoot]);
  for (const id of tasks) ids.add(id);
  return ids;
}
