// A COPY/ADD step's layer made straight from the copy plan's tar, without extracting it into the
// step container and reading the changes back from the overlay upper dir (the layer's bytes
// were written three times that way). The layer holds what that upper dir would: the plan's
// entries, plus every existing directory above them as overlay copies it up (its owner, mode
// and mtime as in the image). Cases where the upper dir would differ (an entry replacing a
// directory by a non-directory or the reverse: whiteouts, opaque dirs; a symlink or a
// non-directory on the way; berth's mountpoints) are not handled here: the stream fails with
// `fallback` set and the caller takes the container path.
import { lstat } from 'node:fs/promises';
import { posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';

/** What the step container's layer leaves out: berth's own mountpoints (see engine/containers/rootfs-access.ts). */
const MOUNTPOINTS = new Set(['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/sbin/docker-init', '/.dockerenv']);
const MOUNT_TREES = ['/proc', '/sys', '/dev'];

export class CopyLayerFallback extends Error {
  constructor(reason: string) {
    super(`copy layer: ${reason}`);
  }
}

export interface CopyLayer {
  tar: Readable;
  /** Set when the stream failed because this case needs the container path. */
  fallback(): boolean;
}

type Seen = 'dir' | 'other' | null;

export function copyLayer(planTar: Readable, rootfs: string): CopyLayer {
  let fellBack = false;
  const out = new PassThrough();
  const pack = tar.pack();
  // what the layer already has (true: a directory)
  const inLayer = new Map<string, boolean>();
  const existing = new Map<string, Seen>();
  const look = async (path: string): Promise<Seen> => {
    let kind = existing.get(path);
    if (kind !== undefined) return kind;
    const st = await lstat(posix.join(rootfs, path)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    kind = st === null ? null : st.isDirectory() ? 'dir' : 'other';
    existing.set(path, kind);
    return kind;
  };
  const fail = (reason: string): never => {
    fellBack = true;
    throw new CopyLayerFallback(reason);
  };
  const addParents = async (path: string) => {
    const parts = path.split('/').filter(Boolean);
    let cur = '/';
    for (let i = 0; i < parts.length - 1; i++) {
      cur = posix.join(cur, parts[i]!);
      const had = inLayer.get(cur);
      if (had === true) continue;
      if (had === false) fail(`${cur} is not a directory in the layer`);
      // checked top-down, every component above is a real directory: a plain lstat stays inside
      const st = await lstat(posix.join(rootfs, cur)).catch(() => null);
      if (!st?.isDirectory()) fail(`${cur} is not a directory in the image`);
      await entry(pack, { name: `${cur.slice(1)}/`, type: 'directory', mode: st!.mode & 0o7777, uid: st!.uid, gid: st!.gid, mtime: st!.mtime });
      inLayer.set(cur, true);
    }
  };
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    void (async () => {
      const name = posix.normalize(`/${header.name}`).replace(/\/+$/, '');
      if (name === '/' || name === '') {
        stream.resume();
        return;
      }
      if (MOUNTPOINTS.has(name) || MOUNT_TREES.some((t) => name === t || name.startsWith(`${t}/`))) fail(`${name} is a mountpoint`);
      if (header.type !== 'file' && header.type !== 'directory' && header.type !== 'symlink' && header.type !== 'link') fail(`${name}: ${header.type}`);
      await addParents(name);
      const isDir = header.type === 'directory';
      const had = inLayer.get(name);
      if (had !== undefined ? had !== isDir : (await look(name)) !== null && ((await look(name)) === 'dir') !== isDir) fail(`${name} changes type`);
      const w = pack.entry({ ...header, name: isDir ? `${name.slice(1)}/` : name.slice(1), ...(header.type === 'link' ? { linkname: posix.normalize(`/${header.linkname}`).slice(1) } : {}) });
      await pipeline(stream, w);
      inLayer.set(name, isDir);
    })().then(
      () => next(),
      (err: Error) => next(err),
    );
  });
  pipeline(planTar, extract)
    .then(() => pack.finalize())
    .catch((err: Error) => {
      pack.destroy(err);
      out.destroy(err);
    });
  // the reader sees the failure through `out`
  pack.on('error', (err) => out.destroy(err));
  pack.pipe(out);
  return { tar: out, fallback: () => fellBack };
}

function entry(pack: tar.Pack, header: Partial<tar.Header> & { name: string }): Promise<void> {
  return new Promise((resolve, reject) => pack.entry(header as tar.Header, (err) => (err ? reject(err) : resolve())));
}
