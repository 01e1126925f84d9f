// A container's upper dir as an OCI layer tar (what `docker commit` adds on top of the image):
// overlayfs whiteouts become `.wh.<name>` entries and opaque directories get `.wh..wh..opq`.
// Streamed: files are read as the tar is consumed.
import { readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { ConflictError } from '../../errors.js';
import { openRegularAt } from '../../util/in-root/dir-ops.js';
import { fdPath } from '../../util/in-root/fd-path.js';
import { WHITEOUT_OPAQUE, WHITEOUT_PREFIX } from './unpack.js';
import { ChangeKind, walkUpper } from './overlay-diff.js';

export function upperLayerTar(upper: string, lowers: string[], skip: (path: string) => boolean): Readable {
  const pack = tar.pack();
  const add = (header: Partial<tar.Header> & { name: string }, body?: Readable) =>
    new Promise<void>((resolve, reject) => {
      if (!body) {
        // without content tar-stream wants the (empty) buffer, or it waits for the entry to be ended
        pack.entry(header, Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
        return;
      }
      const entry = pack.entry(header, (err) => (err ? reject(err) : resolve()));
      void pipeline(body, entry).catch(reject);
    });
  void (async () => {
    for await (const e of walkUpper(upper, lowers, skip)) {
      const name = e.path.slice(1);
      // In a layer such a name is an instruction to delete (review §1: `.wh...` once removed every
      // image layer on unpack); a container's own file must not become one.
      if (e.kind !== ChangeKind.Deleted && e.name.startsWith(WHITEOUT_PREFIX)) {
        throw new ConflictError(`cannot commit: the container has a file named "${e.path}", and image layers reserve the "${WHITEOUT_PREFIX}" prefix for whiteouts`);
      }
      const base = { uid: e.stat.uid, gid: e.stat.gid, mode: e.stat.mode & 0o7777, mtime: e.stat.mtime };
      if (e.kind === ChangeKind.Deleted) {
        await add({ name: posix.join(posix.dirname(name), `${WHITEOUT_PREFIX}${posix.basename(name)}`), size: 0, mode: 0o600 });
      } else if (e.stat.isDirectory()) {
        await add({ ...base, name: `${name}/`, type: 'directory' });
        if (e.opaque) await add({ name: `${name}/${WHITEOUT_OPAQUE}`, size: 0, mode: 0o600 });
      } else if (e.stat.isSymbolicLink()) {
        await add({ ...base, name, type: 'symlink', linkname: await readlink(fdPath(e.dir.fd, e.name)) });
      } else if (e.stat.isFile()) {
        // opened through the directory we hold, only if still a regular file (commit --pause=false
        // reads a running container: no FIFO or device swapped in is ever opened)
        const opened = await openRegularAt(e.dir, e.name);
        if (opened && opened !== 'notRegular') {
          const size = opened.stat.size;
          if (size === 0) {
            await opened.fh.close();
            await add({ ...base, name, size });
          } else {
            // the stream closes the fd when it ends or fails
            await add({ ...base, name, size }, opened.fh.createReadStream({ start: 0, end: size - 1 }));
          }
        }
      }
      // fifos, sockets and device nodes a container made are not part of an image layer
    }
    pack.finalize();
  })().catch((err: Error) => pack.destroy(err));
  return pack as unknown as Readable;
}
