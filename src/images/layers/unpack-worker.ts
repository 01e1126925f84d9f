// Layer unpacking in a worker thread: decompression, tar parsing, the diffID hash and the
// file writes of one layer run beside the daemon's event loop and beside other layers, so a
// pull of several layers uses every core instead of queueing on the main thread (measured:
// berth's pull spent as much CPU as dockerd's but on one thread). The main side streams the
// layer's bytes over (copied into transferred buffers, at most WINDOW unacknowledged), the
// worker answers with applyLayer's result or its error (class name and message, rebuilt here).
// A worker that answered with a result goes back to a small pool for the next layer (starting
// one costs ~50-75 ms of CPU); idle ones are unref()'d so they never keep a process alive and
// end after IDLE_MS (each holds ~14 MB), and one that failed or was aborted is terminated rather
// than reused.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import * as errors from '../../errors.js';
import type { ApplyResult } from './unpack.js';

const WINDOW = 8;
const WORKER_FILE = fileURLToPath(new URL('./unpack-thread.js', import.meta.url));

export type ToWorker = { dir: string } | { chunk: Uint8Array } | { end: true } | { abort: string };
export type FromWorker = { ack: true } | { result: ApplyResult } | { error: { name: string; message: string } };

// a pull streams up to 3 layers into workers at once (pull.ts' DOWNLOAD_CONCURRENCY): keep as many
const MAX_IDLE = Math.max(3, availableParallelism());
const IDLE_MS = 60_000;
const idle: Worker[] = [];
const expiry = new WeakMap<Worker, NodeJS.Timeout>();

// only the events this module listens to: a bare removeAllListeners() also drops the Worker's own
function forgetListeners(w: Worker): void {
  for (const e of ['message', 'error', 'exit']) w.removeAllListeners(e);
}

function takeWorker(): Worker {
  const w = idle.pop();
  if (w) {
    clearTimeout(expiry.get(w));
    forgetListeners(w);
    w.ref();
    return w;
  }
  return new Worker(WORKER_FILE);
}

function releaseWorker(w: Worker): void {
  forgetListeners(w);
  if (idle.length >= MAX_IDLE) {
    void w.terminate();
    return;
  }
  // an idle worker that dies (it should not) simply leaves the pool
  w.once('exit', () => {
    const i = idle.indexOf(w);
    if (i >= 0) idle.splice(i, 1);
  });
  w.on('error', () => undefined);
  w.unref();
  idle.push(w);
  const timer = setTimeout(() => void w.terminate(), IDLE_MS);
  timer.unref();
  expiry.set(w, timer);
}

function rebuild(e: { name: string; message: string }): Error {
  const Cls = (errors as unknown as Record<string, new (m: string) => Error>)[e.name];
  return typeof Cls === 'function' && e.name.endsWith('Error') && e.name !== 'BerthError' ? new Cls(e.message) : new errors.SystemError(e.message);
}

/** applyLayer(src, dir) in its own worker thread. */
export function applyLayerInWorker(src: Readable, dir: string): Promise<ApplyResult> {
  return new Promise((resolve, reject) => {
    const worker = takeWorker();
    let inFlight = 0;
    let settled = false;
    let waiting: (() => void) | undefined;
    const finish = (err: Error | undefined, res?: ApplyResult) => {
      if (settled) return;
      settled = true;
      src.destroy();
      if (!err) {
        releaseWorker(worker);
        resolve(res!);
        return;
      }
      // the worker failed: nothing of it must outlive the promise
      void worker.terminate().then(() => reject(err));
    };
    worker.on('message', (m: FromWorker) => {
      if ('ack' in m) {
        inFlight--;
        const w = waiting;
        waiting = undefined;
        w?.();
      } else if ('result' in m) finish(undefined, m.result);
      else finish(rebuild(m.error));
    });
    worker.on('error', (err) => finish(new errors.SystemError(`layer unpack worker failed: ${err.message}`)));
    worker.on('exit', (code) => finish(new errors.SystemError(`layer unpack worker exited with code ${code}`)));
    worker.postMessage({ dir } satisfies ToWorker);
    void (async () => {
      try {
        for await (const c of src) {
          if (settled) return;
          const buf = c as Buffer;
          const copy = new Uint8Array(buf.length);
          copy.set(buf);
          worker.postMessage({ chunk: copy } satisfies ToWorker, [copy.buffer]);
          inFlight++;
          if (inFlight >= WINDOW) await new Promise<void>((r) => (waiting = r));
        }
        if (!settled) worker.postMessage({ end: true } satisfies ToWorker);
      } catch (err) {
        if (!settled) worker.postMessage({ abort: errors.errorMessage(err) } satisfies ToWorker);
        // the worker fails its applyLayer with this and answers; the source's own error wins
        finish(err instanceof Error ? err : new errors.SystemError(String(err)));
      }
    })();
  });
}
