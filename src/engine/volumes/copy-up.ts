// Docker's copy-up: when a container is created with an empty volume, what its image has at the
// mount point is copied into the volume (files, directories, symlinks, owners, modes, times), so
// `-v data:/var/lib/mysql` starts from the image's tree. The source is the container's rootfs,
// mounted for the copy only (looked up inside it: its symlinks never lead to the host) and the
// target is a volume another running container may be rearranging meanwhile, so both sides are
// walked from held directory fds (src/util/in-root): every create is O_EXCL/O_NOFOLLOW in a held
// directory and every owner, mode and time is set through the created inode, never through a
// name that could be swapped.
import type { Stats } from 'node:fs';
import { access, chmod, chown, lchown, lutimes, mkdir, open, readlink, rm, symlink, utimes, writeFile, type FileHandle } from 'node:fs/promises';
import { CREATE_EXCL_NOFOLLOW, OPEN_DIR_NOFOLLOW, fdPath } from '../../util/in-root/fd-path.js';
import { lstatAt, namesIn, openDirAt, openRegularAt } from '../../util/in-root/dir-ops.js';
import { InRootError, RootDir, errnoOf } from '../../util/in-root/root-dir.js';
import { faultPoint } from '../../util/fault-point.js';

/**
 * Copies `rootfs`'s `destination` into the directory `volumeData` if that directory is empty
 * (moby copyExistingContents); a destination that is missing or not a directory copies nothing.
 * Returns whether anything was copied. `rootfs` may be a function that mounts it: it is called only
 * when the volume is empty, so a volume with content never costs a rootfs mount.
 */
export async function copyUp(rootfs: string | (() => Promise<string>), destination: string, volumeData: string, partialMark?: string): Promise<boolean> {
  const dst = await open(volumeData, OPEN_DIR_NOFOLLOW);
  try {
    // `partialMark` exists while a copy is under way: one a killed daemon left is started over,
    // or the volume would keep half the image's tree for good (it is not empty any more)
    if (partialMark !== undefined && (await access(partialMark).then(() => true, () => false))) {
      for (const name of await namesIn(dst)) await rm(fdPath(dst.fd, name), { recursive: true, force: true });
    }
    if ((await namesIn(dst)).length > 0) return false;
    const rootPath = typeof rootfs === 'string' ? rootfs : await rootfs();
    return await RootDir.with(rootPath, async (root) => {
      const src = await root.openDir(destination).catch((err: unknown) => {
        if (err instanceof InRootError) return null;
        throw err;
      });
      if (!src) return false;
      try {
        if (partialMark !== undefined) await writeFile(partialMark, '');
        await copyTree(src.dir.fh, dst);
        // the volume's root takes the owner and mode of the image's directory, as moby's CopyDir
        const st = await src.dir.fh.stat();
        await setMeta(fdPath(dst.fd), st);
        if (partialMark !== undefined) await rm(partialMark, { force: true });
        return true;
      } finally {
        await src.close();
      }
    });
  } finally {
    await dst.close();
  }
}

// Directory pairs (image side, volume side) held open at most: an image can nest its tree as
// deep as it likes, and one fd per level and side would take all the daemon's fds.
const MAX_HELD_PAIRS = 16;

interface Level {
  /** null once released; reopened as `..` of the level below on the way back up. */
  src: FileHandle | null;
  dst: FileHandle | null;
  names: string[];
  next: number;
  /** The image's directory (its owner, mode and times go onto the copy) and the copy's identity. */
  st: Stats;
  dstId: { dev: number; ino: number };
}

/** `..` of the directory `child` holds, only if it is still the directory `id` names. */
async function reopenParent(child: FileHandle, id: { dev: number; ino: number }): Promise<FileHandle> {
  const fh = await open(`${fdPath(child.fd)}/..`, OPEN_DIR_NOFOLLOW);
  const st = await fh.stat().catch(() => null);
  if (st === null || st.dev !== id.dev || st.ino !== id.ino) {
    await fh.close();
    throw new InRootError('ENOENT', '/', 'a directory was moved while its tree was copied into the volume');
  }
  return fh;
}

/**
 * Depth first, one loop over an explicit stack: the pairs of the deepest levels are held, the
 * others let go and reopened (checked by inode) when the copy comes back up to them.
 */
async function copyTree(src: FileHandle, dst: FileHandle): Promise<void> {
  const top = await src.stat();
  const dstTop = await dst.stat();
  const stack: Level[] = [{ src, dst, names: (await namesIn(src)).sort(), next: 0, st: top, dstId: dstTop }];
  let lo = 1; // levels 1..lo-1 are released, lo.. are held
  const close = async (l: Level) => {
    const [s, d] = [l.src, l.dst];
    l.src = l.dst = null;
    await s?.close();
    await d?.close();
  };
  try {
    while (stack.length > 0) {
      const level = stack[stack.length - 1]!;
      const [s, d] = [level.src!, level.dst!];
      if (level.next >= level.names.length) {
        if (stack.length === 1) return;
        stack.pop();
        try {
          await setMeta(fdPath(d.fd), level.st);
          const p = stack.length - 1;
          if (p >= 1 && p < lo) {
            const parent = stack[p]!;
            parent.src = await reopenParent(s, parent.st);
            parent.dst = await reopenParent(d, parent.dstId);
            lo = p;
          }
        } finally {
          await close(level);
        }
        continue;
      }
      const name = level.names[level.next++]!;
      const st = await lstatAt(s, name);
      if (!st) continue;
      if (st.isDirectory()) {
        await mkdir(fdPath(d.fd, name), { mode: 0o700 }).catch((err) => {
          if (errnoOf(err) !== 'EEXIST') throw err;
        });
        const sub: Level = { src: await openDirAt(s, name), dst: null, names: [], next: 0, st, dstId: { dev: 0, ino: 0 } };
        try {
          sub.dst = await openDirAt(d, name);
          // swapped for something else on either side meanwhile: leave it
          if (!sub.src || !sub.dst) {
            await close(sub);
            continue;
          }
          sub.dstId = await sub.dst.stat();
          sub.names = (await namesIn(sub.src)).sort();
        } catch (err) {
          await close(sub);
          throw err;
        }
        stack.push(sub);
        if (stack.length - lo > MAX_HELD_PAIRS) await close(stack[lo++]!);
      } else if (st.isFile()) {
        await copyFile(s, d, name);
        faultPoint('copyup.after-file');
      } else if (st.isSymbolicLink()) {
        const target = await readlink(fdPath(s.fd, name));
        await symlink(target, fdPath(d.fd, name)).catch((err) => {
          if (errnoOf(err) !== 'EEXIST') throw err;
        });
        const at = fdPath(d.fd, name);
        await lchown(at, st.uid, st.gid).catch(() => undefined);
        await lutimes(at, st.atime, st.mtime).catch(() => undefined);
      }
      // device nodes, FIFOs and sockets are not copied (Node cannot mknod; images rarely have them there)
    }
  } finally {
    // left early (an error): close what this walk opened; the top pair is the caller's
    for (let i = 1; i < stack.length; i++) await close(stack[i]!);
  }
}

async function copyFile(src: FileHandle, dst: FileHandle, name: string): Promise<void> {
  const opened = await openRegularAt(src, name);
  if (opened === null || opened === 'notRegular') return;
  const { fh: input, stat } = opened;
  try {
    let out: FileHandle;
    try {
      out = await open(fdPath(dst.fd, name), CREATE_EXCL_NOFOLLOW, 0o600);
    } catch (err) {
      if (errnoOf(err) === 'EEXIST') return;
      throw err;
    }
    try {
      await copyBytes(input, out);
      // owner first: a chown clears set-id bits the chmod then restores
      await out.chown(stat.uid, stat.gid);
      await out.chmod(stat.mode & 0o7777);
      await out.utimes(stat.atime, stat.mtime);
    } finally {
      await out.close();
    }
  } finally {
    await input.close();
  }
}

/** The whole of `input` into `out`, through the fds both sides hold. */
async function copyBytes(input: FileHandle, out: FileHandle): Promise<void> {
  const buf = Buffer.allocUnsafe(256 * 1024);
  for (let pos = 0; ; ) {
    const { bytesRead } = await input.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) return;
    for (let off = 0; off < bytesRead; ) off += (await out.write(buf, off, bytesRead - off)).bytesWritten;
    pos += bytesRead;
  }
}

/** Owner, mode and times of a directory through `/proc/self/fd/N`: the very inode the fd holds. */
async function setMeta(inode: string, st: Stats): Promise<void> {
  await chown(inode, st.uid, st.gid);
  await chmod(inode, st.mode & 0o7777);
  await utimes(inode, st.atime, st.mtime);
}
