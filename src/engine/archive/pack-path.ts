// GET /containers/{id}/archive: the tar of one resolved path, its entries renamed so that they
// start with the name the client asked for (moby's TarResourceRebaseOpts), e.g. `docker cp c:/x/.`
// gives `./...` and a symlink asked for by its own name is archived as the link itself.
import * as fs from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { pack } from 'tar-fs';

// Regular files are opened without following a final symlink: a container that swaps a file
// for a link to a host path between our lstat and the open gets ELOOP, not the host's file.
const noFollowFs = {
  ...fs,
  createReadStream: (path: fs.PathLike, options?: Parameters<typeof fs.createReadStream>[1]) =>
    fs.createReadStream(path, {
      ...(typeof options === 'object' ? options : {}),
      flags: (fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW) as unknown as string,
    }),
};

/** Tar stream of host path `source`, entries named from `rebaseName` (the client's last path element). */
export function packPath(source: string, rebaseName: string): Readable {
  const dir = dirname(source);
  const base = basename(source);
  // @types/tar-fs lags the package: `fs` (a custom fs module) is a real option of tar-fs 3
  const options = {
    entries: [base],
    fs: noFollowFs,
    // keep every mode bit as stored (tar-fs applies the process umask otherwise)
    umask: 0,
    strict: false,
    map: (header) => {
      if (header.name === base) header.name = rebaseName;
      else if (header.name.startsWith(`${base}/`)) header.name = `${rebaseName}${header.name.slice(base.length)}`;
      // Go's archive/tar (Docker's side) names directories with a trailing slash
      if (header.type === 'directory' && !header.name.endsWith('/')) header.name += '/';
      return header;
    },
  } as Parameters<typeof pack>[1];
  return pack(dir, options) as unknown as Readable;
}
