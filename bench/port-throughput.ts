/**
 * Throughput through a published port on 127.0.0.1 (issue 9, item 9): a busybox httpd container
 * serving a 100 MB file, published with `-p 127.0.0.1:PORT:80`, fetched from the host with curl,
 * as MB/s: the median of RUNS fetches alternating between the daemons, after one warm-up fetch
 * each (a fetch takes a tenth of a second: alternating keeps a burst of other load from landing
 * on one side only). berth forwards with netavark's iptables DNAT (the kernel carries the
 * bytes); dockerd 20.10 sends loopback traffic through its userland docker-proxy. Goal: berth
 * at least 1.5x dockerd's rate.
 */
import { createServer } from 'node:net';
import { runCommand } from '../test/e2e/harness.js';
import { median, mustDocker, type Docker } from './docker-runner.js';

const BYTES = 100_000_000;
const RUNS = 15;
type Side = 'berth' | 'dockerd';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP port nobody listens on right now (the daemon binds it a moment later). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** One curl fetch: MB/s, or throws unless every byte arrived. */
async function fetchRate(url: string): Promise<number> {
  const r = await runCommand('curl', ['-sS', '-f', '-o', '/dev/null', '-w', '%{size_download} %{time_total}', url], { timeoutMs: 600_000 });
  const [size, secs] = r.stdout.trim().split(' ').map(Number);
  if (r.code !== 0 || size !== BYTES) throw new Error(`port bench: curl ${url}: exit ${r.code}, ${size} bytes: ${r.stderr}`);
  return BYTES / 1e6 / secs!;
}

export class PortThroughputBench {
  private readonly rates = new Map<Side, number>();

  /** A serving container on each daemon, then fetches alternating between them (as run.ts does). */
  async measure(sides: Map<Side, Docker>): Promise<void> {
    const script = `mkdir -p /www && head -c ${BYTES} /dev/zero > /www/blob && exec httpd -f -p 80 -h /www`;
    const started: { side: Side; docker: Docker; id: string; url: string }[] = [];
    try {
      for (const [side, docker] of sides) {
        const port = await freePort();
        const id = await mustDocker(docker, ['run', '-d', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sh', '-c', script]);
        started.push({ side, docker, id, url: `http://127.0.0.1:${port}/blob` });
      }
      process.stderr.write(`bench: ${BYTES / 1e6} MB through -p 127.0.0.1:PORT:80 on ${[...sides.keys()].join(' and ')}, alternating (1 warm-up + ${RUNS} fetches each)...\n`);
      // httpd starts once the file is written: the first complete fetch is the warm-up
      for (const s of started) {
        const deadline = Date.now() + 60_000;
        for (;;) {
          try {
            await fetchRate(s.url);
            break;
          } catch (err) {
            if (Date.now() > deadline) throw err;
            await sleep(200);
          }
        }
      }
      const rates = new Map<Side, number[]>(started.map((s) => [s.side, []]));
      for (let i = 0; i < RUNS; i++) for (const s of started) rates.get(s.side)!.push(await fetchRate(s.url));
      for (const [side, xs] of rates) this.rates.set(side, median(xs));
    } finally {
      for (const s of started) await mustDocker(s.docker, ['rm', '-f', s.id]);
    }
  }

  lines(widths: number[]): string[] {
    const b = this.rates.get('berth');
    const d = this.rates.get('dockerd');
    if (b === undefined) return [];
    const pad = (s: string, n: number) => s.padEnd(n);
    const rate = (x: number) => `${x.toFixed(0)} MB/s`;
    return [
      `${pad('published port, 127.0.0.1, curl of 100 MB', widths[0]!)}${pad('berth', widths[1]!)}${pad('dockerd', widths[2]!)}ratio (goal >= 1.5x)`,
      `${pad(`  median of ${RUNS} fetches`, widths[0]!)}${pad(rate(b), widths[1]!)}${pad(d !== undefined ? rate(d) : '-', widths[2]!)}${
        d !== undefined ? `${(b / d).toFixed(2)}x` : '-'
      }`,
    ];
  }
}
