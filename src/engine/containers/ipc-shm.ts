// A `--ipc shareable` container's /dev/shm is a tmpfs mounted on the host (<bundle>/shm) and
// bound into it, so that `--ipc container:<it>` containers can bind the same one: the kernel
// refuses to bind a mount that lives in another container's mount namespace. As moby's ShmPath.
import { execFile } from 'node:child_process';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SystemError, errorMessage } from '../../errors.js';
import { isMountPoint } from '../../images/layers/snapshotter.js';
import { DEFAULT_SHM_SIZE } from '../../runtime/oci-spec.js';

const run = promisify(execFile);

export function shmPath(bundle: string): string {
  return join(bundle, 'shm');
}

/** Mounts the shareable /dev/shm (idempotent) and returns its host path. */
export async function mountShareableShm(bundle: string, size: number): Promise<string> {
  const path = shmPath(bundle);
  await mkdir(path, { recursive: true, mode: 0o700 });
  if (await isMountPoint(path)) return path;
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `nosuid,nodev,noexec,mode=1777,size=${size || DEFAULT_SHM_SIZE}`, 'shm', path]);
  } catch (err) {
    throw new SystemError(`mounting the shareable /dev/shm: ${errorMessage(err)}`);
  }
  return path;
}

/** Unmounts it if it is there (idempotent: most containers never had one). */
export async function unmountShareableShm(bundle: string): Promise<void> {
  const path = shmPath(bundle);
  if (!(await stat(path).then(() => true, () => false))) return;
  if (await isMountPoint(path)) await run('umount', [path]);
  await rm(path, { recursive: true, force: true });
}
