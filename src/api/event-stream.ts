// The body of GET /events: past events since `since`, then live ones until `until` or until the
// client leaves. A subscriber that stops reading gets its events dropped once a bounded amount is
// buffered, as moby's per-subscriber channel (1024 events) drops what a slow reader cannot take:
// the daemon never buffers without bound for a client.
import type { ServerResponse } from 'node:http';
import type { DockerEvent } from '../engine/events/bus.js';
import { setLongTimeout } from '../util/long-timeout.js';

/** About a thousand events, moby's per-subscriber buffer. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface EventSource {
  past(): readonly DockerEvent[];
  subscribe(listener: (ev: DockerEvent) => void): () => void;
}

export interface EventStreamOptions {
  /** Unix nanoseconds. */
  since?: number;
  until?: number;
  match(ev: DockerEvent): boolean;
  /** Called for each event a slow reader misses. */
  onDrop?(ev: DockerEvent): void;
}

/** Streams events into `res` (headers already sent); resolves when the stream is over, whoever ended it. */
export function streamEvents(res: ServerResponse, source: EventSource, opts: EventStreamOptions): Promise<void> {
  const { since, until, match } = opts;
  const inRange = (ev: DockerEvent) => (since === undefined || ev.timeNano >= since) && (until === undefined || ev.timeNano <= until);
  const send = (ev: DockerEvent) => {
    // An ended response must not be written to: Node reports that as an 'error' nobody handles.
    if (res.writableEnded || res.destroyed) return;
    if (!match(ev) || !inRange(ev)) return;
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      opts.onDrop?.(ev);
      return;
    }
    res.write(`${JSON.stringify(ev)}\n`);
  };
  if (since !== undefined) for (const ev of source.past()) send(ev);
  const nowNs = Date.now() * 1e6;
  if (until !== undefined && until <= nowNs) {
    res.end();
    return Promise.resolve();
  }
  return new Promise<void>((resolve) => {
    const unsubscribe = source.subscribe(send);
    let cancelTimer = () => {};
    const stop = () => {
      unsubscribe();
      cancelTimer();
      resolve();
    };
    if (until !== undefined) {
      cancelTimer = setLongTimeout(() => {
        stop();
        res.end();
      }, (until - nowNs) / 1e6);
    }
    res.once('close', stop);
    res.once('finish', stop);
  });
}
