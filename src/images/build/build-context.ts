// The build context: the request body (a tar, maybe gzip/bzip2/xz/zstd compressed, told apart by
// its magic bytes as moby's DecompressStream: layers/compression.ts) streamed to a fresh directory
// under the data-root, one entry at a time with backpressure, so a 1 GB context costs disk, not
// memory. The directory is the builder's own and nothing else writes to it, so confinement is
// checked on names: no entry may climb out (`..`), go through a symlink the tar made, or link to
// a file outside; device nodes and fifos are refused. The caller removes the directory when the build ends.
import { open, link, lutimes, mkdir, realpath, rm, symlink, utimes, chmod, lstat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { InvalidParameterError, NotFoundError } from '../../errors.js';
import { decompressed } from '../layers/compression.js';
import { SizeLimitError, readAtMost } from '../read-at-most.js';

/**
 * The sha256 of each regular file the context brought, by contentKey: computed as the file is
 * written (moby's context does the same), so a COPY's cache probe need not read it again.
 */
export type ContextHashes = Map<string, string>;

/** What says a file is the one received: the same inode, size and mtime. */
export function contentKey(st: Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}

async function writeEntry(entry: AsyncIterable<Buffer>, path: string, mode: number, mtime: Date, hashes?: ContextHashes): Promise<void> {
  const fh = await open(path, 'w', 0o600);
  try {
    const hash = createHash('sha256');
    for await (const chunk of entry) {
      hash.update(chunk);
      await fh.write(chunk);
    }
    await fh.chmod(mode);
    await fh.utimes(mtime, mtime);
    if (hashes) hashes.set(contentKey(await fh.stat()), hash.digest('hex'));
  } finally {
    await fh.close();
  }
}

/** A small file whose content is in memory: open, write, mode, times, close, with nothing else awaited between. */
async function writeSmall(path: string, content: Buffer, mode: number, mtime: Date, hashes?: ContextHashes): Promise<void> {
  const fh = await open(path, 'w', 0o600);
  try {
    if (content.length > 0) await fh.write(content);
    await fh.chmod(mode);
    await fh.utimes(mtime, mtime);
    if (hashes) hashes.set(contentKey(await fh.stat()), createHash('sha256').update(content).digest('hex'));
  } finally {
    await fh.close();
  }
}

// Small files are written several at a time: a context of hundreds of small files spent its
// time in one awaited file operation after another (the daemon's thread idle, the disk too).
const SMALL_FILE = 256 * 1024;
const MAX_PENDING = 32;

/**
 * The stream with zero blocks after its end: the CLI's `-f -` appends the Dockerfile without
 * the tar's padding and end blocks, and Go's reader (moby's) accepts an archive that ends
 * right after an entry's data. A client that leaves mid-upload errors the stream instead.
 */
async function* withEndBlocks(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of src) {
    total += chunk.length;
    yield chunk;
  }
  yield Buffer.alloc((512 - (total % 512)) % 512 + 1024);
}

/** The context-relative path of an entry, or an error for one that would leave the directory. */
function entryPath(name: string): string {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new InvalidParameterError(`invalid build context: entry ${JSON.stringify(name)} leaves the context`);
  return parts.join('/');
}

/** Extract the context tar `body` into `dir` (an empty directory). */
export async function receiveContext(body: Readable, dir: string, signal?: AbortSignal, hashes?: ContextHashes): Promise<void> {
  const extract = tar.extract();
  const symlinks = new Set<string>();
  const dirTimes: { path: string; mtime: Date }[] = [];
  const input = await decompressed(body, { what: 'build context', BadData: InvalidParameterError });
  const feeding = pipeline(Readable.from(withEndBlocks(input)), extract, { signal });
  feeding.catch(() => undefined);
  const throughLink = (rel: string) => {
    const parts = rel.split('/');
    for (let i = 1; i <= parts.length; i++) if (symlinks.has(parts.slice(0, i).join('/'))) return true;
    return false;
  };
  // The CLI's `-f -` appends the Dockerfile without the tar's padding and end blocks; Go's
  // reader accepts an archive that ends right after an entry's data, and so does this.
  let betweenEntries = true;
  // paths written (a later entry of the same name replaces it, as tar does) and dirs made
  const written = new Set<string>();
  const dirs = new Set<string>(['.']);
  // small-file writes under way, by path
  const pending = new Map<string, Promise<void>>();
  let writeError: unknown;
  const drain = async () => {
    await Promise.all(pending.values());
    if (writeError !== undefined) throw writeError;
  };
  try {
    for await (const entry of extract) {
      betweenEntries = false;
      const h = entry.header;
      const rel = entryPath(h.name);
      if (rel === '') {
        entry.resume();
        betweenEntries = true;
        continue;
      }
      const parent = posix.dirname(rel);
      if (parent !== '.' && throughLink(parent)) throw new InvalidParameterError(`invalid build context: entry ${JSON.stringify(h.name)} is under a symbolic link`);
      const path = join(dir, rel);
      const isFile = h.type === 'file' || h.type === 'contiguous-file';
      // only small files of names not yet seen are written concurrently; anything else waits for them
      if (!isFile || written.has(rel) || dirs.has(rel) || (h.size ?? 0) > SMALL_FILE || pending.size >= MAX_PENDING) await drain();
      if (!dirs.has(parent)) {
        await mkdir(join(dir, parent), { recursive: true });
        for (let p = parent; p !== '.' && !dirs.has(p); p = posix.dirname(p)) dirs.add(p);
      }
      // a later entry replaces what an earlier one made there, as tar does (the dir starts empty)
      if ((written.has(rel) || dirs.has(rel)) && (symlinks.delete(rel) || h.type !== 'directory' || !dirs.has(rel))) {
        await rm(path, { force: true, recursive: true });
        dirs.delete(rel);
        for (const d of dirs) if (d.startsWith(`${rel}/`)) dirs.delete(d);
      }
      written.add(rel);
      const mtime = h.mtime ?? new Date(0);
      switch (h.type) {
        case 'file':
        case 'contiguous-file': {
          const mode = (h.mode ?? 0o644) & 0o7777;
          if ((h.size ?? 0) > SMALL_FILE) {
            // read as an async iterable: node's pipeline() misses a tar-stream entry's error
            await writeEntry(entry as AsyncIterable<Buffer>, path, mode, mtime, hashes);
          } else {
            const chunks: Buffer[] = [];
            for await (const c of entry as AsyncIterable<Buffer>) chunks.push(c);
            const w = writeSmall(path, Buffer.concat(chunks), mode, mtime, hashes).then(
              () => void pending.delete(rel),
              (err: unknown) => {
                pending.delete(rel);
                writeError ??= err;
              },
            );
            pending.set(rel, w);
          }
          betweenEntries = true;
          continue;
        }
        case 'directory':
          await mkdir(path, { recursive: true });
          dirs.add(rel);
          await chmod(path, (h.mode ?? 0o755) & 0o7777);
          dirTimes.push({ path, mtime });
          break;
        case 'symlink':
          await symlink(h.linkname ?? '', path);
          symlinks.add(rel);
          await lutimes(path, mtime, mtime).catch(() => undefined);
          break;
        case 'link': {
          const target = entryPath(h.linkname ?? '');
          if (target === '' || throughLink(target)) throw new InvalidParameterError(`invalid build context: hard link ${JSON.stringify(h.name)} points outside the context`);
          await link(join(dir, target), path);
          break;
        }
        case 'character-device':
        case 'block-device':
        case 'fifo':
          throw new InvalidParameterError(`invalid build context: ${JSON.stringify(h.name)} is a device node or fifo`);
        default:
          // pax headers and the like carry nothing to write
          break;
      }
      entry.resume();
      betweenEntries = true;
    }
    await feeding;
    await drain();
  } catch (err) {
    await Promise.all(pending.values());
    if (!(betweenEntries && (err as Error).message === 'Unexpected end of data')) await fail(err);
  }
  async function fail(err: unknown): Promise<never> {
    body.destroy();
    input.destroy();
    await feeding.catch(() => undefined);
    if ((err as { code?: string }).code === 'ABORT_ERR') throw err;
    if (err instanceof InvalidParameterError) throw err;
    throw new InvalidParameterError(`invalid build context: ${(err as Error).message}`);
  }
  // directories last: writing their entries changed their times
  for (const d of dirTimes.reverse()) await utimes(d.path, d.mtime, d.mtime).catch(() => undefined);
}

/**
 * The most of a Dockerfile or .dockerignore the daemon reads. Neither moby's classic builder nor
 * buildkit caps the file (moby's parser only refuses a line over 64 KiB), but the whole text and
 * its parse live in the daemon's memory: a 1 GB Dockerfile in a context must be refused, not read.
 * 16 MiB is some thousand times the largest Dockerfiles seen in the wild.
 */
export const CONTEXT_FILE_LIMIT = 16 * 1024 * 1024;

/**
 * A file of the context by its context path (the Dockerfile, .dockerignore); undefined when
 * absent. A symlink may lead only to a file inside the context. Larger than
 * CONTEXT_FILE_LIMIT: a 400, before anything is read.
 */
export async function readContextFile(dir: string, rel: string): Promise<string | undefined> {
  const clean = posix.normalize(`/${rel}`).slice(1);
  let real: string;
  try {
    real = await realpath(join(dir, clean));
  } catch {
    return undefined;
  }
  const root = await realpath(dir);
  if (real !== root && !real.startsWith(`${root}/`)) return undefined;
  const st = await lstat(real);
  if (!st.isFile()) return undefined;
  const tooLarge = () => new InvalidParameterError(`${clean} exceeds the maximum allowed size of ${CONTEXT_FILE_LIMIT} bytes (16 MiB)`);
  if (st.size > CONTEXT_FILE_LIMIT) throw tooLarge();
  // the stat is not the read: at most one byte past the limit is ever read (`end` is inclusive)
  try {
    return (await readAtMost(createReadStream(real, { end: CONTEXT_FILE_LIMIT }), CONTEXT_FILE_LIMIT, clean)).toString('utf8');
  } catch (err) {
    throw err instanceof SizeLimitError ? tooLarge() : err;
  }
}

/** The Dockerfile's text; moby falls back to `dockerfile` when the default name is missing. */
export async function readDockerfile(dir: string, name: string): Promise<{ text: string; name: string }> {
  const given = name || 'Dockerfile';
  const text = await readContextFile(dir, given);
  if (text !== undefined) return { text, name: given };
  if (!name || name === 'Dockerfile') {
    const lower = await readContextFile(dir, 'dockerfile');
    if (lower !== undefined) return { text: lower, name: 'dockerfile' };
  }
  throw new NotFoundError(`Cannot locate specified Dockerfile: ${given}`);
}
