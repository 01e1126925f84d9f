// The push side's upload sessions against a small stand-in registry on 127.0.0.1: a stream is
// cut into PATCHes of at most the chunk size (a source ending at a chunk's limit costs one
// empty PATCH), each answer's Location is followed, the closing PUT carries the digest; a
// mount's 201 and 202 answers; HEAD's size and 404.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { RegistryClient } from '../../src/images/distribution/registry-client.js';
import { BlobPusher } from '../../src/images/distribution/blob-upload.js';

interface Call {
  method: string;
  url: string;
  bytes: number;
}

async function fakeRegistry(): Promise<{ url: string; calls: Call[]; close(): Promise<void> }> {
  const calls: Call[] = [];
  let step = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      calls.push({ method: req.method!, url: req.url!, bytes });
      const u = new URL(req.url!, 'http://x');
      if (req.method === 'HEAD') {
        res.writeHead(u.pathname.endsWith('sha256:present') ? 200 : 404, { 'Content-Length': u.pathname.endsWith('sha256:present') ? '1234' : '0' });
        return res.end();
      }
      if (req.method === 'POST' && u.searchParams.get('mount') === 'sha256:mountable') {
        res.writeHead(201, { Location: '/v2/r/blobs/sha256:mountable' });
        return res.end();
      }
      if (req.method === 'POST' || req.method === 'PATCH') {
        // relative Locations, each with state of its own, as docker-registry gives them
        res.writeHead(202, { Location: `/v2/r/blobs/uploads/u1?_state=s${++step}` });
        return res.end();
      }
      if (req.method === 'PUT') {
        res.writeHead(201, { 'Docker-Content-Digest': u.searchParams.get('digest') ?? '' });
        return res.end();
      }
      res.writeHead(405);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, calls, close: () => new Promise((r) => server.close(() => r())) };
}

function client(url: string): RegistryClient {
  return new RegistryClient(new URL(url).host, 'r', {}, undefined, { endpoint: { url, mirror: false, skipTlsVerify: false } });
}

function source(sizes: number[]): Readable {
  return Readable.from(sizes.map((n) => Buffer.alloc(n, 7)));
}

test('a stream goes in PATCHes of at most the chunk size, following each Location, then PUT ?digest=', async () => {
  const reg = await fakeRegistry();
  try {
    const pusher = new BlobPusher(client(reg.url), 10);
    const session = await pusher.open();
    const sent = await pusher.putStream(session, source([7, 7, 7, 4]), () => 'sha256:abc');
    assert.equal(sent, 25);
    const patches = reg.calls.filter((c) => c.method === 'PATCH');
    assert.deepEqual(patches.map((c) => c.bytes), [10, 10, 5]);
    assert.deepEqual(patches.map((c) => new URL(c.url, 'http://x').searchParams.get('_state')), ['s1', 's2', 's3']);
    const put = reg.calls.at(-1)!;
    assert.equal(put.method, 'PUT');
    const q = new URL(put.url, 'http://x').searchParams;
    assert.equal(q.get('digest'), 'sha256:abc');
    assert.equal(q.get('_state'), 's4', 'the PUT goes to the last PATCH answer\'s Location');
  } finally {
    await reg.close();
  }
});

test('a source ending right at a chunk limit costs one empty PATCH', async () => {
  const reg = await fakeRegistry();
  try {
    const pusher = new BlobPusher(client(reg.url), 10);
    await pusher.putStream(await pusher.open(), source([10, 10]), () => 'sha256:abc');
    assert.deepEqual(reg.calls.filter((c) => c.method === 'PATCH').map((c) => c.bytes), [10, 10, 0]);
  } finally {
    await reg.close();
  }
});

test('a small blob goes in one PUT; HEAD gives the size or undefined; a mount is 201 or a session', async () => {
  const reg = await fakeRegistry();
  try {
    const pusher = new BlobPusher(client(reg.url));
    await pusher.putWhole(await pusher.open(), 'sha256:abc', Buffer.alloc(5), 5);
    assert.deepEqual(reg.calls.map((c) => [c.method, c.bytes]), [['POST', 0], ['PUT', 5]]);
    assert.equal(await pusher.stat('sha256:present'), 1234);
    assert.equal(await pusher.stat('sha256:absent'), undefined);
    assert.deepEqual(await pusher.mount('sha256:mountable', 'other'), { mounted: true });
    const notMounted = await pusher.mount('sha256:elsewhere', 'other');
    assert.equal(notMounted.mounted, false);
    assert.match(notMounted.mounted ? '' : notMounted.session.location, new RegExp(`^${reg.url}/v2/r/blobs/uploads/u1\\?_state=`));
    const mountCall = reg.calls.find((c) => c.url.includes('mount=sha256%3Aelsewhere'));
    assert.ok(mountCall?.url.includes('from=other'), mountCall?.url);
  } finally {
    await reg.close();
  }
});

test('a registry refusing the stored digest is an error', async () => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST') res.writeHead(202, { Location: '/v2/r/blobs/uploads/x' });
      else res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end(req.method === 'POST' ? undefined : JSON.stringify({ errors: [{ code: 'DIGEST_INVALID', message: 'provided digest did not match uploaded content' }] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const pusher = new BlobPusher(client(url));
    await assert.rejects(pusher.putWhole(await pusher.open(), 'sha256:abc', Buffer.alloc(3), 3), /digest invalid: provided digest did not match uploaded content/);
  } finally {
    await new Promise((r) => server.close(r));
  }
});
