// The build context as the docker CLI sends it: a tar of the context directory, streamed while
// the directory is walked (a large context never sits in memory), in lexical order as Go's
// filepath.Walk, owned by 0:0, leaving out what .dockerignore excludes except the Dockerfile and
// .dockerignore themselves (the CLI's TrimBuildFilesFromExcludes). A Dockerfile from elsewhere
// (outside the context, or `-f -`) goes in as `.dockerfile.<random>` as the CLI's
// AddDockerfileToBuildContext names it.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { PatternMatcher, readPatterns } from '../../src/images/build/dockerfile/dockerignore.js';
import * as tar from 'tar-stream';

export interface ContextOptions {
  /** The Dockerfile's context-relative path ('/'-separated) when it lies inside the context. */
  dockerfile: string;
  /** A Dockerfile from outside the context: added under a generated name. */
  extraDockerfile?: Buffer;
}

export interface BuildContext {
  tar: Readable;
  /** The Dockerfile's name inside the tar, for the `dockerfile` query parameter. */
  dockerfile: string;
}

async function readIgnoreFile(dir: string): Promise<string> {
  try {
    return await readFile(join(dir, '.dockerignore'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

export async function buildContextTar(dir: string, opts: ContextOptions): Promise<BuildContext> {
  // moby/patternmatcher as the daemon reads it (src/images/build/dockerfile/dockerignore.ts)
  const patterns = readPatterns(await readIgnoreFile(dir));
  const base = new PatternMatcher(patterns);
  if (base.ignores('.dockerignore')) patterns.push('!.dockerignore');
  if (!opts.extraDockerfile && base.ignores(opts.dockerfile)) patterns.push(`!${opts.dockerfile}`);
  const matcher = new PatternMatcher(patterns);
  const dockerfile = opts.extraDockerfile ? `.dockerfile.${randomBytes(10).toString('hex')}` : opts.dockerfile;

  const pack = tar.pack();
  const entry = (header: Partial<tar.Header> & { name: string }, body?: Buffer | Readable): Promise<void> =>
    new Promise((resolve, reject) => {
      const h = { uid: 0, gid: 0, uname: '', gname: '', ...header } as tar.Header;
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body === undefined || Buffer.isBuffer(body)) {
        if (body === undefined) pack.entry(h, cb);
        else pack.entry(h, body, cb);
      } else {
        const sink = pack.entry(h, cb);
        body.on('error', (err) => {
          sink.destroy(err);
          reject(err);
        });
        body.pipe(sink);
      }
    });

  const walk = async (abs: string, rel: string): Promise<void> => {
    const names = (await readdir(abs)).sort();
    for (const name of names) {
      const childAbs = join(abs, name);
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(childAbs);
      const excluded = matcher.ignores(childRel);
      if (st.isDirectory()) {
        // an excluded dir is still walked when an exception may bring something back
        if (excluded && !matcher.mayIncludeUnder(childRel)) continue;
        if (!excluded) await entry({ name: `${childRel}/`, type: 'directory', mode: st.mode & 0o7777, mtime: st.mtime });
        await walk(childAbs, childRel);
        continue;
      }
      if (excluded) continue;
      if (st.isFile()) await entry({ name: childRel, type: 'file', mode: st.mode & 0o7777, mtime: st.mtime, size: st.size }, createReadStream(childAbs));
      else if (st.isSymbolicLink()) await entry({ name: childRel, type: 'symlink', linkname: await readlink(childAbs), mode: st.mode & 0o7777, mtime: st.mtime });
      // sockets, fifos and devices have no place in a build context
    }
  };

  (async () => {
    await walk(dir, '');
    if (opts.extraDockerfile) await entry({ name: dockerfile, type: 'file', mode: 0o600, mtime: new Date() }, opts.extraDockerfile);
    pack.finalize();
  })().catch((err: Error) => pack.destroy(err));
  return { tar: pack as unknown as Readable, dockerfile };
}
