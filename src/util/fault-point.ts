// A test-only crash hook: with BERTH_FAULT=<point>[:<n>] in its environment the daemon SIGKILLs
// itself the n-th time (default 1) it reaches the named point, so that test/faults can check
// what a crash at exactly that step leaves behind. Without the variable every call is a no-op.
// SIGKILL, not exit(): no finally block, exit handler or flush may run, as in a real crash.
// Each thread counts its own passes (a layer unpack's worker thread has its own count).
import { writeSync } from 'node:fs';

interface Armed {
  point: string;
  remaining: number;
}

function parse(spec: string | undefined): Armed | undefined {
  if (!spec) return undefined;
  const m = /^([a-z0-9.-]+)(?::([1-9][0-9]*))?$/.exec(spec);
  if (!m) throw new Error(`BERTH_FAULT: expected <point>[:<n>], got ${JSON.stringify(spec)}`);
  return { point: m[1]!, remaining: m[2] ? Number(m[2]) : 1 };
}

const armed = parse(process.env.BERTH_FAULT);

/** Names one step where a crash is worth testing; kills the process when BERTH_FAULT names it. */
export function faultPoint(point: string): void {
  if (armed === undefined || armed.point !== point) return;
  armed.remaining -= 1;
  if (armed.remaining > 0) return;
  // the harness reads this line to tell the injected death from any other; written to fd 2
  // at once, since a worker thread's process.stderr is a message the kill would overtake
  try {
    writeSync(2, `berth: fault point ${point} reached: SIGKILL\n`);
  } catch {
    // stderr gone or full: the death is still the point's
  }
  process.kill(process.pid, 'SIGKILL');
}
