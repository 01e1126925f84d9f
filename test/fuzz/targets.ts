// The objects a fuzz run aims at (so valid ids reach deep code): a created container, a running
// one, a chatty running one (for clients that stop reading), an image tag, a network, a volume
// and an exec. ensure() puts back whatever earlier requests removed, stopped or paused; resolve()
// swaps a request's @@tokens@@ for their ids.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import type { Daemon } from '../e2e/harness.js';
import type { TarFixture } from './generators.js';

const RUNNING_BODY = {
  Image: 'busybox',
  Cmd: ['sleep', '100000'],
  // SIGKILL at once: a generated stop with a huge timeout must not hold the target for hours
  StopSignal: 'SIGKILL',
  OpenStdin: true,
};
const CHATTY_BODY = {
  Image: 'busybox',
  // bursts with pauses: output to fill a slow reader's buffers without taking a core
  Cmd: ['sh', '-c', 'while :; do seq 1 5000; sleep 1; done'],
  StopSignal: 'SIGKILL',
  HostConfig: { LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } } },
};

export class Targets {
  readonly tokens = new Map<string, string>();
  private fixtures = new Map<TarFixture, Buffer>();

  constructor(private readonly d: Daemon) {}

  async setUp(): Promise<void> {
    await this.d.ensureBusybox();
    const net = JSON.parse(await readFile(join(this.d.base, 'net.json'), 'utf8')) as { pool: string };
    const [a, b] = net.pool.split('.');
    // a /24 near the top of the daemon's own pool, away from what its allocator hands out first
    this.tokens.set('subnet', `${a}.${b}.250.0/24`);
    this.tokens.set('gateway', `${a}.${b}.250.1`);
    this.fixtures = await buildFixtures();
    await this.ensure();
  }

  private async ok(method: string, path: string, body?: unknown, okStatuses = [200, 201, 204, 304]): Promise<any> {
    const r = await this.d.api(method, path, body, { timeoutMs: 60_000 });
    if (!okStatuses.includes(r.status)) throw new Error(`fuzz targets: ${method} ${path}: ${r.status} ${r.text}`);
    return r.json;
  }

  private async container(name: string, body: unknown, running: boolean): Promise<string> {
    let r = await this.d.api('GET', `/containers/${name}/json`);
    if (r.status === 404) {
      await this.ok('POST', `/containers/create?name=${name}`, body);
      r = await this.d.api('GET', `/containers/${name}/json`);
    }
    const state = r.json?.State ?? {};
    if (running) {
      if (state.Paused) await this.ok('POST', `/containers/${name}/unpause`, undefined, [204, 409]);
      if (!state.Running || state.Restarting) await this.ok('POST', `/containers/${name}/start`, undefined, [204, 304, 409]);
    }
    return r.json.Id as string;
  }

  /** Make every target exist again, in the state the generators expect. */
  async ensure(): Promise<void> {
    // a generated rmi -f may have removed it
    await this.d.ensureBusybox();
    const running = await this.container('fz-running', RUNNING_BODY, true);
    this.tokens.set('running.id', running);
    this.tokens.set('running.short', running.slice(0, 12));
    const created = await this.container('fz-created', { Image: 'busybox', Cmd: ['true'] }, false);
    this.tokens.set('created.id', created);
    await this.container('fz-chatty', CHATTY_BODY, true);
    const image = await this.ok('GET', '/images/busybox:latest/json');
    this.tokens.set('image.id', image.Id);
    this.tokens.set('image.hex', String(image.Id).replace(/^sha256:/, ''));
    await this.ok('POST', '/images/busybox:latest/tag?repo=fz-img&tag=1', undefined, [201]);
    let net = await this.d.api('GET', '/networks/fz-net');
    if (net.status === 404) {
      await this.ok('POST', '/networks/create', { Name: 'fz-net' });
      net = await this.d.api('GET', '/networks/fz-net');
    }
    this.tokens.set('net.id', net.json.Id);
    this.tokens.set('net.short', String(net.json.Id).slice(0, 12));
    await this.ok('POST', '/volumes/create', { Name: 'fz-vol' }, [201]);
    const exec = await this.d.api('POST', `/containers/fz-running/exec`, { Cmd: ['echo', 'fuzz'], AttachStdout: true }, { timeoutMs: 30_000 });
    if (exec.status === 201) this.tokens.set('exec', exec.json.Id);
  }

  resolve(text: string): string {
    return text.replace(/@@([a-z.]+)@@/g, (m, name: string) => this.tokens.get(name) ?? m);
  }

  fixture(name: TarFixture): Buffer {
    return this.fixtures.get(name) ?? Buffer.alloc(0);
  }
}

async function packTar(entries: { name: string; body?: string; type?: 'file' | 'directory' | 'symlink'; linkname?: string }[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) pack.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname, mode: 0o644 }, e.body ?? '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function gzip(buf: Buffer): Promise<Buffer> {
  const z = createGzip();
  const chunks: Buffer[] = [];
  z.end(buf);
  for await (const c of z) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function buildFixtures(): Promise<Map<TarFixture, Buffer>> {
  const file = await packTar([{ name: 'fuzz.txt', body: 'fuzz\n' }]);
  const dockerfile = await packTar([
    { name: 'Dockerfile', body: 'FROM busybox\nCOPY fuzz.txt /fuzz.txt\nLABEL fuzz=1\n' },
    { name: 'fuzz.txt', body: 'fuzz\n' },
  ]);
  const dotdot = await packTar([
    { name: '../../fz-escape', body: 'x' },
    { name: 'l', type: 'symlink', linkname: '/etc' },
    { name: 'l/fz-escape', body: 'x' },
  ]);
  const garbage = await gzip(Buffer.from('this is not a tar archive at all'));
  // deterministic "random" bytes: the same run sends the same body
  const random = Buffer.alloc(4096);
  let x = 2463534242;
  for (let i = 0; i < random.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    random[i] = x & 0xff;
  }
  return new Map<TarFixture, Buffer>([
    ['tar-file', file],
    ['tar-dockerfile', dockerfile],
    ['tar-dotdot', dotdot],
    ['tar-truncated', dockerfile.subarray(0, 700)],
    ['gzip-garbage', garbage],
    ['random-bytes', random],
    ['empty', Buffer.alloc(0)],
  ]);
}
