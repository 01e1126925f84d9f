// A layer made without a container, for steps on `FROM scratch` (there is no image to create a
// container from): the directories a WORKDIR makes, root-owned 0755 as moby's MkdirAllAndChown.
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';

export function scratchLayer(entries: { path: string; type: 'directory' }[]): Readable {
  const pack = tar.pack();
  const seen = new Set<string>();
  for (const e of entries) {
    const parts = e.path.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const name = parts.slice(0, i).join('/');
      if (seen.has(name)) continue;
      seen.add(name);
      pack.entry({ name: `${name}/`, type: e.type, mode: 0o755, uid: 0, gid: 0, mtime: new Date() });
    }
  }
  pack.finalize();
  return pack as unknown as Readable;
}
