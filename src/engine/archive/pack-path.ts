// GET /containers/{id}/archive and export: the tar of a path of a container (or its whole
// rootfs), entries renamed so that they start with the name the client asked for (moby's
// TarResourceRebaseOpts), e.g. `docker cp c:/x/.` gives `./...`. The container may be running
// and swapping directories for symlinks while we read (the read side of CVE-2018-15664), so the
// walk holds each directory open and reads every name relative to it (src/util/in-root): what
// ends up in the tar is the container's, never the host's. Regular files are opened only after
// an O_PATH look says they are regular (a FIFO or a device node is archived as a header, never
// opened), and a file that changes size while it is read keeps the size its header announced.
import { once } from 'node:events';
import { readlink, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import type { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { fdPath } from '../../util/in-root/fd-path.js';
import { lstatAt, openDirAt, openRegularAt } from '../../util/in-root/dir-ops.js';
import { walkTree } from '../../util/in-root/walk-tree.js';
import type { Resolved, RootDir } from '../../util/in-root/root-dir.js';

const CHUNK = 256 * 1024;

export interface TarOut {
  tar: Readable;
  /** Settles once every fd the walk held is closed (so the rootfs can be unmounted). */
  released: Promise<void>;
}

class Aborted extends Error {}

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
  const pack = tar.pack();
  const w = new TreeWriter(pack);
  const released = walk(w).then(
    () => {
      if (!w.aborted) pack.finalize();
    },
    (err: unknown) => {
      if (!w.aborted) pack.destroy(err instanceof Error ? err : new Error(String(err)));
    },
  );
  return { tar: pack as unknown as Readable, released };
}

class TreeWriter {
  /** First tar name of each multiply-linked inode: later names become hard links to it. */
  private readonly links = new Map<string, string>();
  private readonly closed = new AbortController();
  /** Entries waiting for tar-stream, failed at once when the stream is gone. */
  private readonly waiting = new Set<(err: Error) => void>();

  constructor(private readonly pack: tar.Pack) {
    // a client that goes away ends the walk at its next step (and its fds are closed)
    pack.once('close', () => {
      this.closed.abort();
      for (const fail of this.waiting) fail(new Aborted());
    });
  }

  get aborted(): boolean {
    return this.closed.signal.aborted;
  }

  /** Runs `start` (which calls back when tar-stream has taken the entry) unless the stream is gone first. */
  private write(start: (cb: (err?: Error | null) => void) => void): Promise<void> {
    if (this.aborted) return Promise.reject(new Aborted());
    return new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => {
        this.waiting.delete(fail);
        reject(err);
      };
      this.waiting.add(fail);
      start((err) => {
        this.waiting.delete(fail);
        if (err) reject(err);
        else resolve();
      });
    });
  }

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
    if (this.aborted) throw new Aborted();
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
    const size = st.size;
    await this.write((cb) => {
      const sink = this.pack.entry({ ...header(st, tarName), type: 'file', size }, cb);
      void (async () => {
        let pos = 0;
        while (pos < size) {
          if (this.aborted) throw new Aborted();
          const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - pos));
          const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
          // a file that shrank meanwhile is padded: the header's size is a promise to the reader
          const piece = bytesRead === 0 ? Buffer.alloc(buf.length) : buf.subarray(0, bytesRead);
          pos += piece.length;
          if (!sink.write(piece)) await once(sink, 'drain', { signal: this.closed.signal });
        }
        sink.end(Buffer.alloc(0));
      })().catch((err: Error) => {
        sink.destroy(err);
        cb(err);
      });
    });
  }

  private add(h: Partial<tar.Header> & { name: string }): Promise<void> {
    return this.write((cb) => this.pack.entry(h, Buffer.alloc(0), cb));
  }
}

function header(st: Stats, name: string): Partial<tar.Header> & { name: string } {
  return { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime, size: 0 };
}
