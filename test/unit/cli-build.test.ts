// `berth build` against a stand-in daemon: the POST /build request the docker CLI makes for the
// classic builder (query, the context tar with .dockerignore applied, a Dockerfile from outside
// the context added under its own name), the output streamed, -q, --iidfile, and a failed
// step's exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar-stream';
import { runClient } from '../../cli/client/main.js';
import { buildContextTar } from '../../cli/client/build-context.js';

class Capture {
  chunks: Buffer[] = [];
  isTTY = false;
  write(chunk: string | Uint8Array): boolean {
    this.chunks.push(Buffer.from(chunk));
    return true;
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString();
  }
}

interface Received {
  query: URLSearchParams;
  entries: Map<string, string>;
}

async function untar(stream: AsyncIterable<unknown> & NodeJS.ReadableStream): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  const extract = tar.extract();
  stream.pipe(extract as unknown as NodeJS.WritableStream);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    const h = entry.header;
    entries.set(h.name, h.type === 'symlink' ? `-> ${h.linkname}` : h.type === 'directory' ? '<dir>' : Buffer.concat(chunks).toString());
  }
  return entries;
}

/** A daemon that reads the whole context, then answers with `reply` (JSON messages). */
async function fakeBuildDaemon(reply: object[]): Promise<{ socket: string; received: Received[]; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-cli-build-'));
  const socket = join(dir, 's.sock');
  const received: Received[] = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url!, 'http://x');
    const entries = await untar(req);
    received.push({ query: url.searchParams, entries });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    for (const m of reply) res.write(`${JSON.stringify(m)}\r\n`);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    socket,
    received,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function run(argv: string[]) {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runClient(argv, { stdout, stderr, env: {} });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const ID = `sha256:${'ab'.repeat(32)}`;
const OK_REPLY = [
  { stream: 'Step 1/2 : FROM busybox\n' },
  { stream: ' ---> 0123456789ab\n' },
  { stream: 'Step 2/2 : RUN true\n' },
  { stream: ' ---> Using cache\n' },
  { aux: { ID } },
  { stream: 'Successfully built abababababab\n' },
  { stream: 'Successfully tagged one:latest\n' },
];

async function contextDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-ctx-'));
  await writeFile(join(dir, 'Dockerfile'), 'FROM busybox\nRUN true\n');
  await writeFile(join(dir, '.dockerignore'), '# comment\nsecret*\nlogs/\nbuild/\n!build/keep.txt\nDockerfile\n.dockerignore\n');
  await writeFile(join(dir, 'app.txt'), 'app');
  await writeFile(join(dir, 'secret.key'), 'no');
  await mkdir(join(dir, 'logs'));
  await writeFile(join(dir, 'logs', 'a.log'), 'no');
  await mkdir(join(dir, 'build'));
  await writeFile(join(dir, 'build', 'keep.txt'), 'kept');
  await writeFile(join(dir, 'build', 'drop.txt'), 'no');
  await symlink('app.txt', join(dir, 'link'));
  return dir;
}

test('build: the query the docker CLI sends, the context without what .dockerignore excludes, the output as it came', async () => {
  const d = await fakeBuildDaemon(OK_REPLY);
  const ctx = await contextDir();
  const iid = join(ctx, '..', `${ctx.split('/').pop()}.iid`);
  try {
    const r = await run(['-H', `unix://${d.socket}`, 'build', '-t', 'one', '-t', 'two:x', '--build-arg', 'A=1', '--build-arg', 'B=x=y', '--label', 'l=v', '--no-cache', '--rm=false', '--target', 'final', '--iidfile', iid, ctx]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Sending build context to the berth daemon +\d+(\.\d+)?kB\n/);
    assert.ok(r.stdout.endsWith('Step 1/2 : FROM busybox\n ---> 0123456789ab\nStep 2/2 : RUN true\n ---> Using cache\nSuccessfully built abababababab\nSuccessfully tagged one:latest\n'), r.stdout);
    assert.equal(await readFile(iid, 'utf8'), ID);
    const [got] = d.received;
    assert.deepEqual(got!.query.getAll('t'), ['one', 'two:x']);
    assert.equal(got!.query.get('dockerfile'), 'Dockerfile');
    assert.deepEqual(JSON.parse(got!.query.get('buildargs')!), { A: '1', B: 'x=y' });
    assert.deepEqual(JSON.parse(got!.query.get('labels')!), { l: 'v' });
    assert.equal(got!.query.get('nocache'), '1');
    assert.equal(got!.query.get('rm'), '0');
    assert.equal(got!.query.get('target'), 'final');
    assert.equal(got!.query.get('q'), null);
    // Dockerfile and .dockerignore travel though excluded; the exception comes back
    assert.deepEqual([...got!.entries.keys()].sort(), ['.dockerignore', 'Dockerfile', 'app.txt', 'build/keep.txt', 'link']);
    assert.equal(got!.entries.get('link'), '-> app.txt');
    assert.equal(got!.entries.get('build/keep.txt'), 'kept');
  } finally {
    await d.close();
    await rm(ctx, { recursive: true, force: true });
    await rm(iid, { force: true });
  }
});

test('build -q prints only the ID; a Dockerfile outside the context travels as .dockerfile.<random>', async () => {
  const d = await fakeBuildDaemon([{ stream: `${ID}\n` }]);
  const ctx = await contextDir();
  const outside = await mkdtemp(join(tmpdir(), 'berth-df-'));
  await writeFile(join(outside, 'Other.dockerfile'), 'FROM scratch\n');
  try {
    const iid = join(outside, 'iid');
    const r = await run(['-H', `unix://${d.socket}`, 'build', '-q', '--iidfile', iid, '-f', join(outside, 'Other.dockerfile'), ctx]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, `${ID}\n`, '']);
    assert.equal(await readFile(iid, 'utf8'), `${ID}\n`);
    const [got] = d.received;
    assert.equal(got!.query.get('q'), '1');
    assert.equal(got!.query.get('rm'), '1');
    const name = got!.query.get('dockerfile')!;
    assert.match(name, /^\.dockerfile\.[0-9a-f]{20}$/);
    assert.equal(got!.entries.get(name), 'FROM scratch\n');
    // the context's own Dockerfile is excluded by .dockerignore like any file now
    assert.equal(got!.entries.has('Dockerfile'), false);
  } finally {
    await d.close();
    await rm(ctx, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  }
});

test('build: a failed step exits with its code; -q shows the kept output then; usage errors', async () => {
  const failing = [{ stream: 'Step 1/1 : RUN exit 3\n' }, { stream: ' ---> Running in 0123456789ab\n' }, { errorDetail: { code: 3, message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" }, error: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" }];
  const d = await fakeBuildDaemon(failing);
  const ctx = await contextDir();
  try {
    const r = await run(['-H', `unix://${d.socket}`, 'build', ctx]);
    assert.equal(r.code, 3);
    assert.equal(r.stderr, "The command '/bin/sh -c exit 3' returned a non-zero code: 3\n");
    assert.match(r.stdout, /Step 1\/1 : RUN exit 3\n ---> Running in 0123456789ab\n$/);
    const q = await run(['-H', `unix://${d.socket}`, 'build', '-q', ctx]);
    assert.equal(q.code, 3);
    assert.equal(q.stdout, '');
    assert.equal(q.stderr, "Step 1/1 : RUN exit 3\n ---> Running in 0123456789ab\nThe command '/bin/sh -c exit 3' returned a non-zero code: 3\n");
  } finally {
    await d.close();
    await rm(ctx, { recursive: true, force: true });
  }
  const none = await run(['build']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /"berth build" requires exactly 1 argument/);
  const missing = await run(['-H', 'unix:///nonexistent.sock', 'build', '/nonexistent-context']);
  assert.deepEqual([missing.code, missing.stderr], [1, 'unable to prepare context: path "/nonexistent-context" not found\n']);
});

test('build context: an excluded directory and everything under it stay out', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-ctx-'));
  try {
    await writeFile(join(dir, 'Dockerfile'), 'FROM busybox\n');
    await writeFile(join(dir, '.dockerignore'), 'node_modules\n');
    await mkdir(join(dir, 'node_modules', 'x'), { recursive: true });
    await writeFile(join(dir, 'node_modules', 'x', 'f'), 'no');
    const { tar: stream, dockerfile } = await buildContextTar(dir, { dockerfile: 'Dockerfile' });
    assert.equal(dockerfile, 'Dockerfile');
    assert.deepEqual([...(await untar(stream as unknown as AsyncIterable<unknown> & NodeJS.ReadableStream)).keys()].sort(), ['.dockerignore', 'Dockerfile']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
