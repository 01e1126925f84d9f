// Reading a small file that a container or an image controls (/etc/passwd, /etc/group): looked
// up inside its root, refused unless it is a regular file, and read no further than a cap. A
// FIFO would otherwise hold one of libuv's four workers forever, and a 200 MB file of newlines
// would take the whole daemon's heap.
import { InRootError, RootDir } from './root-dir.js';
import { openRegularAt } from './dir-ops.js';

export class FileTooLargeError extends Error {}
export class NotRegularFileError extends Error {}

/** The file's bytes; null when it (or a directory on its way) does not exist. */
export async function readFileInRoot(host: string, path: string, maxBytes: number): Promise<Buffer | null> {
  return RootDir.with(host, async (root) => {
    let at;
    try {
      at = await root.resolve(path, { followLast: true });
    } catch (err) {
      if (err instanceof InRootError && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return null;
      throw err;
    }
    try {
      if (at.name === null) throw new NotRegularFileError(`${path} is not a regular file`);
      const opened = await openRegularAt(at.dir.fh, at.name);
      if (opened === null) return null;
      if (opened === 'notRegular') throw new NotRegularFileError(`${path} is not a regular file`);
      try {
        if (opened.stat.size > maxBytes) throw new FileTooLargeError(`${path} is larger than ${maxBytes} bytes`);
        // read one byte past the cap: a file that grew since fstat is caught too
        const buf = Buffer.alloc(Math.min(opened.stat.size, maxBytes) + 1);
        let got = 0;
        while (got < buf.length) {
          const { bytesRead } = await opened.fh.read(buf, got, buf.length - got, got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        if (got > maxBytes) throw new FileTooLargeError(`${path} is larger than ${maxBytes} bytes`);
        return buf.subarray(0, got);
      } finally {
        await opened.fh.close();
      }
    } finally {
      await at.close();
    }
  });
}
