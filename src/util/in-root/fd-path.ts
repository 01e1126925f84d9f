// Paths that name a file relative to an open directory, the way openat(2) would. Node has no
// openat, but the kernel resolves /proc/self/fd/N as the very directory fd N holds (whatever
// has been renamed or swapped for a symlink since), so `/proc/self/fd/N/name` looks up one
// name inside that directory and nowhere else. With one component after the fd and
// O_NOFOLLOW (or a call that never follows its last component: lstat, mkdir, unlink, symlink,
// rename, link), nothing a container does to the tree can redirect the call to the host.
import { constants } from 'node:fs';

/** O_PATH: an fd that names an inode without opening it (no FIFO wait, no device open). */
export const O_PATH = 0o10000000;

export const OPEN_PATH_NOFOLLOW = O_PATH | constants.O_NOFOLLOW;
export const OPEN_DIR_NOFOLLOW = O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW;
// O_NONBLOCK: a FIFO swapped in after our check cannot park a libuv worker in open(2)
export const OPEN_READ_NONBLOCK = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;
export const CREATE_EXCL_NOFOLLOW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** The path of `name` inside the directory open as `fd`, or of the fd's own inode without a name. */
export function fdPath(fd: number, name?: string): string {
  if (name !== undefined && (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0'))) {
    // a guard against our own bugs: callers hand over single components only
    throw new Error(`fdPath: not a single path component: ${JSON.stringify(name)}`);
  }
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}
