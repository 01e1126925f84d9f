// Node's parser gave up on a request (header block over the limit, malformed request line):
// answered as Go's server answers it, with `Connection: close`, and with a body only when the
// request is known not to be a HEAD (a body after a HEAD answer is read as the next answer).
// The write side is closed and the socket kept reading for a moment before it is destroyed, as
// Go's closeWriteAndWait: destroying it with unread input makes the kernel send a reset that
// can discard the answer before the client reads it.
import type { Socket } from 'node:net';
import { errorBody, JSON_CONTENT_TYPE } from './errors.js';

/** How long the half-closed socket may stay open for the client to read the answer. */
const LINGER_MS = 500;

const ANSWERS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'request header fields too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'request timeout'],
};
const BAD_REQUEST: [number, string, string] = [400, 'Bad Request', 'malformed HTTP request'];

/** The method of the request the failed packet begins with, or undefined when it does not begin one. */
function methodOf(raw: unknown): string | undefined {
  if (!Buffer.isBuffer(raw)) return undefined;
  return /^([A-Z]{3,10}) /.exec(raw.subarray(0, 12).toString('latin1'))?.[1];
}

export function answerClientError(err: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void {
  // a reset connection, or one answered already (Node reports each later chunk's parse error too)
  if (err.code === 'ECONNRESET' || socket.destroyed || socket.writableEnded) return;
  const [status, text, message] = ANSWERS[err.code ?? ''] ?? BAD_REQUEST;
  const method = methodOf(err.rawPacket);
  const body = method !== undefined && method !== 'HEAD' ? errorBody(message) : '';
  const head = `HTTP/1.1 ${status} ${text}\r\n${body ? `Content-Type: ${JSON_CONTENT_TYPE}\r\n` : ''}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  socket.on('error', () => undefined);
  socket.end(head + body);
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
