// The worker thread of unpack-worker.ts: layers, one after another, arrive as a directory then
// their bytes as messages, and are applied with applyLayer into that directory. The thread is
// reused for the next layer once it has answered (a start costs ~50 ms of CPU).
import { parentPort } from 'node:worker_threads';
import { Readable } from 'node:stream';
import { applyLayer } from './unpack.js';
import type { FromWorker, ToWorker } from './unpack-worker.js';

const port = parentPort!;

interface Layer {
  src: Readable;
  owed: number;
}
// The layer being applied; undefined between layers, when stray chunks of a layer that ended
// early (its tar done before its bytes) are dropped unacknowledged: the sender has moved on.
let current: Layer | undefined;

function startLayer(dir: string): void {
  const layer: Layer = {
    owed: 0,
    // A chunk is acknowledged once the unpack wants more, so the sender's window is real backpressure.
    src: new Readable({
      highWaterMark: 1 << 20,
      read() {
        if (current !== layer) return;
        for (; layer.owed > 0; layer.owed--) port.postMessage({ ack: true } satisfies FromWorker);
      },
    }),
  };
  current = layer;
  applyLayer(layer.src, dir).then(
    (result) => {
      current = undefined;
      port.postMessage({ result } satisfies FromWorker);
    },
    (err: unknown) => {
      current = undefined;
      const e = err instanceof Error ? err : new Error(String(err));
      port.postMessage({ error: { name: e.name, message: e.message } } satisfies FromWorker);
    },
  );
}

port.on('message', (m: ToWorker) => {
  if ('dir' in m) {
    if (!current) startLayer(m.dir);
    return;
  }
  const layer = current;
  if (!layer) return;
  if ('chunk' in m) {
    if (layer.src.push(Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength))) port.postMessage({ ack: true } satisfies FromWorker);
    else layer.owed++;
  } else if ('end' in m) layer.src.push(null);
  else layer.src.destroy(new Error(m.abort));
});
