// Decompressing a stream told apart by its magic bytes, as moby's archive.DecompressStream:
// layer tars (the media type is not always honest: docker-archive layers are plain, import
// accepts either), build contexts and ADD's local archives all come here. Node has gzip; bzip2,
// xz and zstd go through Debian's tools as child processes, streamed (moby execs unpigz the same
// way): Node 20's zlib has neither, and a decoder written here would be a new parser of hostile
// input.
import { spawn } from 'node:child_process';
import { PassThrough, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { SystemError } from '../../errors.js';

export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

export const ZSTD_BIN = process.env.BERTH_ZSTD ?? 'zstd';

const TOOLS: Record<Exclude<Compression, 'none' | 'gzip'>, () => string> = { bzip2: () => 'bzip2', xz: () => 'xz', zstd: () => ZSTD_BIN };

/** The longest magic number looked at (xz's). */
export const MAGIC_LEN = 6;

export function detectCompression(head: Buffer): Compression {
  const starts = (...bytes: number[]) => head.length >= bytes.length && bytes.every((b, i) => head[i] === b);
  if (starts(0x1f, 0x8b, 0x08)) return 'gzip';
  if (starts(0x42, 0x5a, 0x68)) return 'bzip2';
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  return 'none';
}

/** The system has no decompressor for the format: berth's failure, whatever the data. */
export class DecompressorMissingError extends SystemError {}

export interface DecompressOptions {
  /** What the data is, for a corrupt stream's error: `invalid zstd <what>: <reason>` (default 'layer'). */
  what?: string;
  /** The error for corrupt data (default SystemError: a layer a registry sent). */
  BadData?: new (message: string) => Error;
}

/** The tool's own one-line reason from its stderr. */
function reasonOf(tool: string, stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const own = lines.filter((l) => l.startsWith(`${tool}:`) || l.startsWith('zstd:'));
  const line = own.at(-1) ?? lines[0] ?? '';
  return line.replace(/^[^:]+: /, '').replace(/^\/\*stdin\*\\\s*:\s*/, '').replace(/^\(stdin\): /, '');
}

/**
 * `src` through the tool for `kind`. Corrupt data ends the stream with the tool's own reason;
 * the consumer going away (a reader that saw enough) kills the process, so none outlives its stream.
 */
function throughTool(src: Readable, kind: Exclude<Compression, 'none' | 'gzip'>, opts: DecompressOptions): Readable {
  const tool = TOOLS[kind]();
  const out = new PassThrough();
  let child: ReturnType<typeof spawn>;
  const missing = (err: Error) => new DecompressorMissingError(`cannot run ${tool} to decompress ${kind} data: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
  try {
    child = spawn(tool, kind === 'zstd' ? ['-dc', '-q', '--no-progress'] : ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    src.destroy();
    out.destroy(missing(err as Error));
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
  child.once('error', (err) => fail(missing(err)));
  child.stderr!.on('data', (c: Buffer) => {
    if (stderr.length < 4096) stderr += c.toString('utf8');
  });
  // the tool stops reading when the data is bad: a write then fails with EPIPE, which is its exit's business
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
      const BadData = opts.BadData ?? SystemError;
      fail(new BadData(`invalid ${kind} ${opts.what ?? 'layer'}: ${reasonOf(tool, stderr) || `${tool} exited with code ${exitCode}`}`));
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

/** `src` decompressed as `kind` says. gzip's errors are zlib's own (they name what broke). */
export function decompressStream(src: Readable, kind: Compression, opts: DecompressOptions = {}): Readable {
  if (kind === 'none') return src;
  if (kind !== 'gzip') return throughTool(src, kind, opts);
  // 256 KiB out per callback rather than 16: a fraction of the callbacks and tar chunks
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  src.on('error', (err) => gunzip.destroy(err));
  gunzip.once('close', () => {
    if (!gunzip.readableEnded) src.destroy();
  });
  return src.pipe(gunzip);
}

/** Peek at the first bytes of `src` and return a stream of its decompressed content. */
export async function decompressed(src: Readable, opts: DecompressOptions = {}): Promise<Readable> {
  const it = src[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let len = 0;
  let done = false;
  while (len < MAGIC_LEN) {
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
  return decompressStream(rest, detectCompression(head), opts);
}
