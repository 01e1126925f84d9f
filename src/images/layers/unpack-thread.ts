// The worker thread of unpack-worker.ts: one layer's bytes arrive as messages and are
// applied with applyLayer into the directory named first.
import { parentPort } from 'node:worker_threads';
import { Readable } from 'node:stream';
import { applyLayer } from './unpack.js';
import type { FromWorker, ToWorker } from './unpack-worker.js';

const port = parentPort!;
// A chunk is acknowledged once the unpack wants more, so the sender's window is real backpressure.
let owed = 0;
const src = new Readable({
  highWaterMark: 1 << 20,
  read() {
    for (; owed > 0; owed--) port.postMessage({ ack: true } satisfies FromWorker);
  },
});
let started = false;

port.on('message', (m: ToWorker) => {
  if ('dir' in m) {
    if (started) return;
    started = true;
    applyLayer(src, m.dir).then(
      (result) => port.postMessage({ result } satisfies FromWorker),
      (err: unknown) => {
        const e = err instanceof Error ? err : new Error(String(err));
        port.postMessage({ error: { name: e.name, message: e.message } } satisfies FromWorker);
      },
    );
  } else if ('chunk' in m) {
    if (src.push(Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength))) port.postMessage({ ack: true } satisfies FromWorker);
    else owed++;
  } else if ('end' in m) src.push(null);
  else src.destroy(new Error(m.abort));
});
