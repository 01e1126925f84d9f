// Layer tars come plain, gzip or zstd compressed, and the media type is not always honest
// (docker-archive layers are plain, import accepts either), so compression is sniffed from
// the magic bytes like moby's archive.DecompressStream. zstd goes through Debian's `zstd -dc`
// (moby execs unpigz the same way): Node 20's zlib has no zstd, and a decoder written here
// would be a new parser of hostile input.
import { spawn } from 'node:child_process';
import { PassThrough, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { SystemError } from '../../errors.js';

export type Compression = 'none' | 'gzip' | 'zstd';

export const ZSTD_BIN = process.env.BERTH_ZSTD ?? 'zstd';

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/**
 * `src` through `zstd -dc`. A corrupt frame ends the stream with zstd's own one-line reason;
 * the consumer going away kills the process, so no zstd outlives its layer.
 */
export function zstdDecompress(src: Readable): Readable {
  const out = new PassThrough();
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(ZSTD_BIN, ['-dc', '-q', '--no-progress'], { stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    src.destroy();
    out.destroy(new SystemError(`zstd compressed layer: cannot run ${ZSTD_BIN}: ${(err as Error).message}`));
    return out;
  }
  let stderr = '';
  let failed = false;
  const fail = (err: Error) => {
    if (failed) return;
    failed = true;
    src.destroy();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    out.destroy(err);
  };
  child.once('error', (err: NodeJS.ErrnoException) =>
    fail(new SystemError(err.code === 'ENOENT' ? `zstd compressed layer: ${ZSTD_BIN} is not installed` : `zstd compressed layer: ${err.message}`)),
  );
  child.stderr!.on('data', (c: Buffer) => {
    if (stderr.length < 4096) stderr += c.toString('utf8');
  });
  // zstd stops reading when the frame is bad: a write then fails with EPIPE, which is its exit's business.
  child.stdin!.on('error', () => undefined);
  src.on('error', (err) => fail(err));
  src.pipe(child.stdin!);
  child.stdout!.pipe(out, { end: false });
  let stdoutDone = false;
  let exitCode: number | null | undefined;
  const finish = () => {
    if (!stdoutDone || exitCode === undefined || failed) return;
    if (exitCode === 0) out.end();
    else {
      const reason = stderr.trim().split('\n').pop()?.replace(/^zstd: /, '').replace(/^\/\*stdin\*\\\s*:\s*/, '') ?? '';
      fail(new SystemError(`invalid zstd layer: ${reason || `zstd exited with code ${exitCode}`}`));
    }
  };
  child.stdout!.once('end', () => {
    stdoutDone = true;
    finish();
  });
  child.once('close', (code) => {
    exitCode = code;
    finish();
  });
  out.once('close', () => {
    if (!out.writableFinished || !out.readableEnded) {
      src.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
  return out;
}

/** Peek at the first bytes of `src` and return a stream of its decompressed content. */
export async function decompressed(src: Readable): Promise<Readable> {
  const it = src[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let len = 0;
  let done = false;
  while (len < 6) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    chunks.push(chunk);
    len += chunk.length;
  }
  const head = Buffer.concat(chunks);
  const kind = detectCompression(head);
  const rest = Readable.from(
    (async function* () {
      if (head.length > 0) yield head;
      if (done) return;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    })(),
    { objectMode: false },
  );
  if (kind === 'none') return rest;
  if (kind === 'zstd') return zstdDecompress(rest);
  // 256 KiB out per callback rather than 16: a fraction of the callbacks and tar chunks
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  rest.on('error', (err) => gunzip.destroy(err));
  return rest.pipe(gunzip);
}
