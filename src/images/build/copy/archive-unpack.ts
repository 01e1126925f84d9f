// ADD of a local tar: its entries re-emitted into the plan's tar under the destination, named as
// moby's untar chrooted at dest names them (archive-paths.ts), with the archive's own owners,
// modes and times. The archive is hostile: oversized PAX records are refused before tar-stream
// would buffer them, and a cut-off or garbled one fails the copy.
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { InvalidParameterError } from '../../../errors.js';
import { TarHeaderGuard } from '../../../util/tar-guard.js';
import { ArchivePaths } from './archive-paths.js';
import type { OutHeader, TarWriter } from '../../../util/tar-writer.js';

type TarEntry = tar.Extract extends AsyncIterable<infer S> ? S : never;

/** A container path as a tar name: relative to '/'. */
function tarName(path: string): string {
  return path.replace(/^\/+/, '');
}

/** Re-emits an archive's entries under `target`, named as the untar chrooted at dest names them (archive-paths.ts). */
export async function unpackInto(out: TarWriter, src: Readable, target: string): Promise<void> {
  const extract = tar.extract();
  const feeding = pipeline(src, new TarHeaderGuard(), extract);
  feeding.catch(() => undefined);
  const paths = new ArchivePaths();
  const outName = (rel: string) => tarName(posix.join(target, rel));
  try {
    for await (const entry of extract as AsyncIterable<TarEntry>) {
      const h = entry.header;
      const rel = paths.resolve(h.name);
      const drain = async () => {
        for await (const _ of entry) {
          // discard
        }
      };
      if (rel === '') {
        await drain();
        continue;
      }
      const base: OutHeader = { name: outName(rel), mode: (h.mode ?? 0o644) & 0o7777, uid: h.uid ?? 0, gid: h.gid ?? 0, mtime: h.mtime ?? new Date(0) };
      paths.made(rel, h.type === 'symlink' ? (h.linkname ?? '') : undefined);
      switch (h.type) {
        case 'file':
        case 'contiguous-file':
          await out.copy(base, entry as AsyncIterable<Buffer>, h.size ?? 0);
          break;
        case 'directory':
          await drain();
          await out.add({ ...base, name: `${base.name}/`, type: 'directory' });
          break;
        case 'symlink':
          await drain();
          await out.add({ ...base, type: 'symlink', linkname: h.linkname ?? '' });
          break;
        case 'link': {
          await drain();
          const linkRel = paths.resolve(h.linkname ?? '');
          if (linkRel === '') {
            throw new InvalidParameterError(`invalid archive: hard link ${JSON.stringify(h.name)} -> ${JSON.stringify(h.linkname)} does not name a file of the archive`);
          }
          await out.add({ ...base, type: 'link', linkname: outName(linkRel) });
          break;
        }
        case 'fifo':
        case 'character-device':
        case 'block-device':
          await drain();
          await out.add({ ...base, type: h.type, devmajor: h.devmajor ?? 0, devminor: h.devminor ?? 0 });
          break;
        default:
          await drain();
      }
    }
    await feeding;
  } catch (err) {
    src.destroy();
    const fed = await feeding.then(() => undefined, (e: unknown) => e);
    if (err instanceof InvalidParameterError && err.message.startsWith('invalid archive')) throw err;
    const cause = fed instanceof Error && (fed as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE' ? fed : err;
    throw new InvalidParameterError(`invalid archive: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}
