// GET /containers/{id}/archive and export: the tar of one resolved path (or a whole rootfs), its entries renamed so that they
// start with the name the client asked for (moby's TarResourceRebaseOpts), e.g. `docker cp c:/x/.`
// gives `./...` and a symlink asked for by its own name is archived as the link itself.
import * as fs from 'node:fs';
import { readdir } from 'node:fs/promises';
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
  const base = basename(source);
  return packEntries(dirname(source), [base], (name) => {
    if (name === base) return rebaseName;
    if (name.startsWith(`${base}/`)) return `${rebaseName}${name.slice(base.length)}`;
    return name;
  });
}

/** Tar stream of everything in `root`, names relative to it (`docker export`). */
export async function packTree(root: string): Promise<Readable> {
  return packEntries(root, (await readdir(root)).sort(), (name) => name);
}

function packEntries(dir: string, entries: string[], rename: (name: string) => string): Readable {
  // @types/tar-fs lags the package: `fs` (a custom fs module) is a real option of tar-fs 3
  const options = {
    entries,
    fs: noFollowFs,
    // keep every mode bit as stored (tar-fs applies the process umask otherwise)
    umask: 0,
    strict: false,
    map: (header) => {
      header.name = rename(header.name);
      // Go's archive/tar (Docker's side) names directories with a trailing slash
      if (header.type === 'directory' && !header.name.endsWith('/')) header.name += '/';
      return header;
    },
  } as Parameters<typeof pack>[1];
  return pack(dir, options) as unknown as Readable;
}
