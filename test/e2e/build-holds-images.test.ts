// A build holds the images it stands on (issue 10): while a step is under way, rmi -f and
// image prune -a leave its base and its last step image alone, even when no container and no
// child image protects them yet (an ADD of a URL downloads before the step's container exists);
// once the build ends they may go. The same build shows the ADD download's progress.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { daemonForFile, rawRequest, type Daemon } from './harness.js';

describe('docker build holds its images', () => {
  const f = daemonForFile();
  let d: Daemon;
  let dir: string;
  let server: Server;
  let base: string;
  /** The download's response, parked until the test lets it finish. */
  let parked: (res: ServerResponse) => void;
  before(async () => {
    d = f.daemon();
    dir = await mkdtemp('/tmp/bt-build-holds-');
    server = createServer((_rq, res) => {
      res.writeHead(200, { 'Content-Length': '14' });
      res.write('half ');
      parked(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  function contextTar(ctx: string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const child = spawn('tar', ['-C', ctx, '-cf', '-', '.']);
      const chunks: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => chunks.push(c));
      child.on('error', reject);
      child.on('close', () => resolve(Buffer.concat(chunks)));
    });
  }

  test('rmi -f and prune -a leave the base and the step image while the build runs', async () => {
    await d.dockerOk(['tag', 'busybox', 'holdbase']);
    const baseId = await d.dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'holdbase']);
    const ctx = join(dir, 'ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), `FROM scratch\nENV STEP=1\nFROM holdbase\nADD ${base}/file.txt /dl/\n`);
    const res = await rawRequest(d.socket, 'POST', '/build?t=held&nocache=1&rm=1', {
      body: await contextTar(ctx),
      headers: { 'content-type': 'application/x-tar' },
      timeoutMs: 180_000,
    });
    assert.equal(res.statusCode, 200);
    const msgs: any[] = [];
    let buf = '';
    let sawDownload!: () => void;
    const downloading = new Promise<void>((resolve) => (sawDownload = resolve));
    const done = new Promise<void>((resolve, reject) => {
      res.on('data', (c: Buffer) => {
        buf += c.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line === '') continue;
          const m = JSON.parse(line);
          msgs.push(m);
          if (m.status === 'Downloading') sawDownload();
        }
      });
      res.on('end', resolve);
      res.on('error', reject);
    });
    const response = new Promise<ServerResponse>((resolve) => (parked = resolve));
    await downloading;
    // the first stage's image (its ENV step): dangling, no child and no container
    const stepId = await d.dockerOk(['images', '-a', '-q', '--no-trunc', '--filter', 'dangling=true']);
    assert.match(stepId, /^sha256:[0-9a-f]{64}$/);

    const rmiBase = await d.docker(['rmi', '-f', baseId]);
    assert.notEqual(rmiBase.code, 0);
    assert.match(rmiBase.stderr, /conflict: unable to delete [0-9a-f]{12} \(cannot be forced\) - image is being used by a build/);
    const rmiStep = await d.docker(['rmi', '-f', stepId]);
    assert.match(rmiStep.stderr, /\(cannot be forced\) - image is being used by a build/);
    // prune -a untags busybox (holdbase still names the image) but keeps holdbase and the image
    await d.dockerOk(['image', 'prune', '-a', '-f']);
    await d.dockerOk(['image', 'inspect', baseId, stepId]);
    assert.equal(await d.dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'holdbase']), baseId);
    // its last reference is not untagged without force either
    const rmiTag = await d.docker(['rmi', 'holdbase']);
    assert.match(rmiTag.stderr, /unable to remove repository reference "holdbase" \(must force\) - image [0-9a-f]{12} is being used by a build/);

    (await response).end('finished\n');
    await done;
    assert.ok(!msgs.some((m) => m.error), JSON.stringify(msgs));
    assert.ok(msgs.some((m) => m.stream?.startsWith('Successfully tagged held:latest')), JSON.stringify(msgs));
    // the download's progress, as moby's: no id, the Content-Length as total
    const dl = msgs.find((m) => m.status === 'Downloading');
    assert.equal(dl.progressDetail.total, 14);
    assert.equal(dl.id, undefined);
    assert.equal(await d.dockerOk(['run', '--rm', 'held', 'cat', '/dl/file.txt']), 'half finished');

    // the build is over: nothing holds them now
    await d.dockerOk(['rmi', 'held']);
    await d.dockerOk(['image', 'prune', '-f']);
    assert.equal((await d.docker(['image', 'inspect', stepId])).code, 1);
    await d.dockerOk(['rmi', 'holdbase']);
  });
});
