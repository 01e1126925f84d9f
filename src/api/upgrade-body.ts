// Node hands requests that carry `Upgrade` to server.on('upgrade') with the body unparsed:
// `head` plus whatever is still in the socket. This reads exactly the request body
// (Content-Length or chunked) and puts every byte after it back in front of the socket,
// where it belongs to the hijacked stream (stdin).
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { InvalidParameterError } from '../errors.js';

type Parse = { body: Buffer; consumed: number } | undefined;

/** Returns the body (undefined when the request has none) and leaves the socket positioned after it. */
export async function readUpgradeBody(
  socket: Socket,
  head: Buffer,
  headers: IncomingHttpHeaders,
  limit: number,
): Promise<Buffer | undefined> {
  const parse = bodyParser(headers, limit);
  if (!parse) {
    if (head.length > 0) socket.unshift(head);
    return undefined;
  }
  let buffered = head;
  for (;;) {
    const result = parse(buffered);
    if (result) {
      const rest = buffered.subarray(result.consumed);
      if (rest.length > 0) socket.unshift(rest);
      return result.body;
    }
    const more = await readSome(socket);
    if (!more) throw new InvalidParameterError('unexpected EOF while reading request body');
    buffered = buffered.length === 0 ? more : Buffer.concat([buffered, more]);
    if (buffered.length > limit + 64 * 1024) throw new InvalidParameterError('request body is too large');
  }
}

function bodyParser(headers: IncomingHttpHeaders, limit: number): ((buf: Buffer) => Parse) | undefined {
  const te = headers['transfer-encoding'];
  if (te !== undefined && te.toLowerCase().split(',').map((s) => s.trim()).includes('chunked')) {
    return (buf) => parseChunked(buf, limit);
  }
  const cl = headers['content-length'];
  if (cl === undefined) return undefined;
  if (!/^[0-9]+$/.test(cl)) throw new InvalidParameterError(`invalid Content-Length: ${cl}`);
  const length = Number(cl);
  if (length === 0) return undefined;
  if (length > limit) throw new InvalidParameterError('request body is too large');
  return (buf) => (buf.length >= length ? { body: Buffer.from(buf.subarray(0, length)), consumed: length } : undefined);
}

const CRLF = Buffer.from('\r\n');

/** Decodes a complete chunked body at the start of `buf`, or undefined if more bytes are needed. */
export function parseChunked(buf: Buffer, limit: number): Parse {
  const parts: Buffer[] = [];
  let size = 0;
  let pos = 0;
  for (;;) {
    const lineEnd = buf.indexOf(CRLF, pos);
    if (lineEnd < 0) {
      if (buf.length - pos > 1024) throw new InvalidParameterError('invalid chunked request body');
      return undefined;
    }
    const sizeText = buf.subarray(pos, lineEnd).toString('latin1').split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new InvalidParameterError('invalid chunked request body');
    const chunkSize = Number.parseInt(sizeText, 16);
    pos = lineEnd + 2;
    if (chunkSize === 0) {
      // Trailer fields, then an empty line.
      for (;;) {
        const end = buf.indexOf(CRLF, pos);
        if (end < 0) return undefined;
        const empty = end === pos;
        pos = end + 2;
        if (empty) return { body: Buffer.concat(parts, size), consumed: pos };
      }
    }
    size += chunkSize;
    if (size > limit) throw new InvalidParameterError('request body is too large');
    if (buf.length < pos + chunkSize + 2) return undefined;
    parts.push(buf.subarray(pos, pos + chunkSize));
    if (buf[pos + chunkSize] !== 0x0d || buf[pos + chunkSize + 1] !== 0x0a) {
      throw new InvalidParameterError('invalid chunked request body');
    }
    pos += chunkSize + 2;
  }
}

/** The next chunk the socket has, or undefined at EOF/close. Leaves the socket in its fresh, non-flowing state. */
function readSome(socket: Socket): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunk = socket.read() as Buffer | null;
    if (chunk) return resolve(chunk);
    if (socket.readableEnded || socket.destroyed) return resolve(undefined);
    const cleanup = () => {
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
    };
    const onReadable = () => {
      const data = socket.read() as Buffer | null;
      if (!data) return;
      cleanup();
      resolve(data);
    };
    const onEnd = () => {
      cleanup();
      resolve(undefined);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    socket.on('readable', onReadable);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
  });
}
