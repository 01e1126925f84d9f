// Responses that are streaming right now, so that an error thrown by their handler after the
// headers went out can still be reported the stream's own way (in-band) instead of being lost.
import type { ServerResponse } from 'node:http';

export interface StreamFailer {
  fail(err: unknown): void;
}

const open = new WeakMap<ServerResponse, StreamFailer>();

export function trackStream(res: ServerResponse, failer: StreamFailer): void {
  open.set(res, failer);
}

export function untrackStream(res: ServerResponse): void {
  open.delete(res);
}

export function streamOf(res: ServerResponse): StreamFailer | undefined {
  return open.get(res);
}
