// A request carrying `Upgrade` that no hijack route takes (HEAD /_ping with `Upgrade: tcp`, a
// HEAD of a hijack path, a HEAD with `Upgrade: websocket`): Go's server ignores the header, so
// dockerd answers it as the ordinary request it is. Node has already handed the socket to
// server.on('upgrade') and ended the request it parsed, so the request is rebuilt on the same
// socket (with its body, read as the hijacks read theirs) and goes through Fastify's router on
// a response of its own, which frames the answer as HTTP says (no body on a HEAD answer). The
// connection closes after it: what follows the request on the socket was never parsed.
import { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { rawErrorResponse } from './errors.js';
import { readUpgradeBody } from './upgrade-body.js';

export async function answerAsOrdinary(app: FastifyInstance, req: IncomingMessage, socket: Socket, head: Buffer, bodyLimit: number): Promise<void> {
  let body: Buffer | undefined;
  try {
    body = await readUpgradeBody(socket, head, req.headers, bodyLimit);
  } catch (err) {
    if (!socket.destroyed) socket.end(rawErrorResponse(err, req.method));
    return;
  }
  const fresh = new IncomingMessage(socket);
  Object.assign(fresh, {
    method: req.method,
    url: req.url,
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    httpVersion: req.httpVersion,
    httpVersionMajor: req.httpVersionMajor,
    httpVersionMinor: req.httpVersionMinor,
    complete: true,
  });
  if (body) fresh.push(body);
  fresh.push(null);
  const res = new ServerResponse(fresh);
  res.shouldKeepAlive = false;
  res.assignSocket(socket);
  res.once('finish', () => {
    res.detachSocket(socket);
    socket.end();
  });
  // Node's server is no longer watching this socket: a client that leaves mid-answer (a stream it
  // stopped reading) must still end the request and close the response, or a route streaming
  // under a container's lock (export) would hold it for ever.
  socket.once('end', () => {
    if (!res.writableFinished) socket.destroy();
  });
  socket.once('close', () => {
    if (!fresh.destroyed) fresh.destroy();
  });
  app.routing(fresh, res);
}
