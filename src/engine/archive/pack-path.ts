// GET /containers/{id}/archive and export: the tar of a path of a container (or its whole
// rootfs), entries renamed so that they start with the name the client asked for (moby's
// TarResourceRebaseOpts), e.g. `docker cp c:/x/.` gives `./...`. The container may be running
// and swapping directories for symlinks while we read (the read side of CVE-2018-15664), so the
// walk holds each directory open and reads every name relative to it (src/util/in-root): what
// ends up in the tar is the container's, never the host's. Regular files are opened only after
// an O_PATH look says they are regular (a FIFO or a device node is archived as a header, never
// opened), and a file that changes size while it is read keeps the size its header announced.
import { readlink, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import type { Readable } from 'node:stream';
import { StreamClosedError, TarWriter, type OutHeader } from '../../util/tar-writer.js';
import { fdPath } from '../../util/in-root/fd-path.js';
import { lstatAt, openDirAt, openRegularAt } from '../../util/in-root/dir-ops.js';
import { walkTree } from '../../util/in-root/walk-tree.js';
import type { Resolved, RootDir } from '../../util/in-root/root-dir.js';

export interface TarOut {
  tar: Readable;
  /** Settles once every fd the walk held is closed (so the rootfs can be unmounted). */
  released: Promise<void>;
}

/**
 * Tar of what `at` names (a lookup the caller made and hands over: it is closed when the walk
 * ends), entries named from `rebaseName`.
 */
export function packPath(at: Resolved, rebaseName: string): TarOut {
  return packWith(async (w) => {
    try {
      if (at.name === null) await w.directory(at.dir.fh, rebaseName, await at.dir.fh.stat());
      else await w.entry(at.dir.fh, at.name, rebaseName);
    } finally {
      await at.close();
    }
  });
}

/** Tar of everything in `root`, names relative to it (`docker export`). */
export function packTree(root: RootDir): TarOut {
  return packWith((w) => w.contents(root.fh, ''));
}

function packWith(walk: (w: TreeWriter) => Promise<void>): TarOut {
  const out = new TarWriter();
  const released = walk(new TreeWriter(out)).then(
    () => out.finish(),
    (err: unknown) => out.fail(err),
  );
  return { tar: out.stream, released };
}

class TreeWriter {
  /** First tar name of each multiply-linked inode: later names become hard links to it. */
  private readonly links = new Map<string, string>();

  // a client that goes away ends the walk at its next step (and its fds are closed)
  constructor(private readonly out: TarWriter) {}

  /** One name in `dir`, and everything under it when it is a directory. */
  async entry(dir: FileHandle, name: string, tarName: string): Promise<void> {
    const st = await lstatAt(dir, name);
    if (!st) return; // gone since the directory was listed
    if (!st.isDirectory()) return this.node(dir, name, st, tarName);
    const sub = await openDirAt(dir, name);
    if (!sub) return; // swapped for something else: what is there now is not what we listed
    try {
      await this.directory(sub, tarName, st);
    } finally {
      await sub.close();
    }
  }

  /** A directory's own entry, then everything under it. */
  async directory(dir: FileHandle, tarName: string, st: Stats): Promise<void> {
    await this.node(dir, '', st, tarName);
    await this.contents(dir, `${tarName.replace(/\/+$/, '')}/`);
  }

  /** Everything under `dir` (walked through held fds), tar names starting with `prefix`. */
  async contents(dir: FileHandle, prefix: string): Promise<void> {
    for await (const e of walkTree(dir)) await this.node(e.dir, e.name, e.stat, `${prefix}${e.path.slice(1)}`);
  }

  /** The entry for `name` in `dir` alone (a directory's header only: its contents come from the walk). */
  private async node(dir: FileHandle, name: string, st: Stats, tarName: string): Promise<void> {
    if (this.out.aborted) throw new StreamClosedError();
    if (st.isDirectory()) {
      // Go's archive/tar (Docker's side) names directories with a trailing slash
      await this.add({ ...header(st, tarName.endsWith('/') ? tarName : `${tarName}/`), type: 'directory' });
    } else if (st.isSymbolicLink()) {
      const target = await readlink(fdPath(dir.fd, name)).catch(() => null);
      if (target !== null) await this.add({ ...header(st, tarName), type: 'symlink', linkname: target });
    } else if (st.isFile()) {
      const opened = await openRegularAt(dir, name);
      if (opened === null || opened === 'notRegular') return;
      try {
        await this.file(opened.fh, opened.stat, tarName);
      } finally {
        await opened.fh.close();
      }
    } else if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
      // the node itself, as Docker archives it; never opened
      const type = st.isFIFO() ? 'fifo' : st.isBlockDevice() ? 'block-device' : 'character-device';
      await this.add({ ...header(st, tarName), type, devmajor: Math.floor(st.rdev / 256) & 0xfff, devminor: st.rdev & 0xff });
    }
    // sockets are not archived (Go's archive/tar cannot)
  }

  private async file(fh: FileHandle, st: Stats, tarName: string): Promise<void> {
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.links.get(key);
      if (first !== undefined) return this.add({ ...header(st, tarName), type: 'link', linkname: first, size: 0 });
      this.links.set(key, tarName);
    }
    await this.out.file(header(st, tarName), fh, st.size);
  }

  private add(h: OutHeader): Promise<void> {
    return this.out.add(h);
  }
}

function header(st: Stats, name: string): OutHeader {
  return { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime, size: 0 };
}
