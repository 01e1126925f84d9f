// The build context's extraction (src/images/build/build-context.ts): compressed forms told by
// magic bytes, the CLI's `-f -` tail without end blocks, and hostile entries refused without
// anything written outside the directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, mkdir, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { CONTEXT_FILE_LIMIT, contentKey, readContextFile, readDockerfile, receiveContext, type ContextHashes } from '../../src/images/build/build-context.js';

type Entry = { name: string; type?: tar.Header['type']; body?: string; linkname?: string; mode?: number };

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    const h = { name: e.name, type: e.type ?? 'file', mode: e.mode ?? 0o644, ...(e.linkname ? { linkname: e.linkname } : {}) } as tar.Header;
    if ((e.type ?? 'file') === 'file') pack.entry(h, e.body ?? '');
    else pack.entry(h);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

async function withDirs(fn: (ctx: string, outside: string) => Promise<void>): Promise<void> {
  const base = await mkdtemp('/tmp/bt-ctx-unit-');
  try {
    await mkdir(join(base, 'ctx'));
    await mkdir(join(base, 'outside'));
    await fn(join(base, 'ctx'), join(base, 'outside'));
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

const SIMPLE: Entry[] = [
  { name: 'Dockerfile', body: 'FROM busybox\n' },
  { name: 'dir/', type: 'directory', mode: 0o755 },
  { name: 'dir/a.txt', body: 'a', mode: 0o600 },
  { name: 'link', type: 'symlink', linkname: 'dir/a.txt' },
];

test('plain, gzip, bzip2 and xz contexts extract alike (told by magic bytes)', async () => {
  const plain = await tarOf(SIMPLE);
  const forms: [string, Buffer][] = [['plain', plain], ['gzip', gzipSync(plain)]];
  for (const bin of ['bzip2', 'xz']) if (existsSync(`/usr/bin/${bin}`)) forms.push([bin, execFileSync(bin, ['-c'], { input: plain })]);
  for (const [name, body] of forms) {
    await withDirs(async (ctx) => {
      await receiveContext(Readable.from([body]), ctx);
      assert.equal(await readFile(join(ctx, 'dir/a.txt'), 'utf8'), 'a', name);
      assert.equal((await readDockerfile(ctx, '')).text, 'FROM busybox\n');
    });
  }
});

test("the CLI's -f - tail (an entry without padding and end blocks) is accepted", async () => {
  const full = await tarOf([{ name: 'a', body: 'x' }, { name: '.dockerfile.abc', body: 'FROM busybox\n' }]);
  // header(512) + data(1) + pad, header(512) + 13 bytes: cut right after the last entry's data
  const cut = full.subarray(0, 512 + 512 + 512 + 13);
  await withDirs(async (ctx) => {
    await receiveContext(Readable.from([cut]), ctx);
    assert.equal((await readDockerfile(ctx, '.dockerfile.abc')).text, 'FROM busybox\n');
  });
});

test('hostile entries: .., through a symlink, hard links out, device nodes; nothing lands outside', async () => {
  const cases: [string, Entry[]][] = [
    ['dotdot', [{ name: '../escape', body: 'x' }]],
    ['nested dotdot', [{ name: 'a/../../escape', body: 'x' }]],
    ['through a symlink', [{ name: 'l', type: 'symlink', linkname: '../outside' }, { name: 'l/escape', body: 'x' }]],
    ['hard link out', [{ name: 'h', type: 'link', linkname: '../outside/escape' }]],
    ['device', [{ name: 'dev', type: 'character-device' }]],
    ['fifo', [{ name: 'p', type: 'fifo' }]],
  ];
  for (const [what, entries] of cases) {
    await withDirs(async (ctx, outside) => {
      await assert.rejects(receiveContext(Readable.from([await tarOf(entries)]), ctx), /invalid build context/, what);
      assert.deepEqual(await readdir(outside), [], what);
    });
  }
  // an absolute name is taken relative to the context, as Docker's untar does
  await withDirs(async (ctx) => {
    await receiveContext(Readable.from([await tarOf([{ name: '/abs.txt', body: 'y' }])]), ctx);
    assert.equal(await readFile(join(ctx, 'abs.txt'), 'utf8'), 'y');
  });
});

test('a Dockerfile that is a symlink out of the context is not read', async () => {
  await withDirs(async (ctx) => {
    await receiveContext(Readable.from([await tarOf([{ name: 'Dockerfile', type: 'symlink', linkname: '/etc/passwd' }])]), ctx);
    await assert.rejects(readDockerfile(ctx, 'Dockerfile'), /Cannot locate specified Dockerfile: Dockerfile/);
  });
});

test('many small files (written several at a time) and later entries replacing earlier ones', async () => {
  const entries: Entry[] = [];
  for (let i = 0; i < 100; i++) entries.push({ name: `m/f${i}.txt`, body: `file ${i}`, mode: i % 2 ? 0o640 : 0o755 });
  entries.push(
    { name: 'm/f3.txt', body: 'replaced' },
    { name: 'hard', type: 'link', linkname: 'm/f7.txt' },
    // a file where a parent dir was made implicitly, then a file under a path that was a file
    { name: 'p/q/r.txt', body: 'r' },
    { name: 'p/q', body: 'q is a file now' },
    { name: 'm/f9.txt', type: 'directory', mode: 0o700 },
    { name: 'm/f9.txt/inner', body: 'inner' },
  );
  await withDirs(async (ctx) => {
    await receiveContext(Readable.from([await tarOf(entries)]), ctx);
    assert.equal((await readdir(join(ctx, 'm'))).length, 100);
    assert.equal(await readFile(join(ctx, 'm/f0.txt'), 'utf8'), 'file 0');
    assert.equal(await readFile(join(ctx, 'm/f99.txt'), 'utf8'), 'file 99');
    assert.equal((await stat(join(ctx, 'm/f1.txt'))).mode & 0o7777, 0o640);
    assert.equal((await stat(join(ctx, 'm/f2.txt'))).mode & 0o7777, 0o755);
    assert.equal(await readFile(join(ctx, 'm/f3.txt'), 'utf8'), 'replaced');
    assert.equal(await readFile(join(ctx, 'hard'), 'utf8'), 'file 7');
    assert.equal(await readFile(join(ctx, 'p/q'), 'utf8'), 'q is a file now');
    assert.equal(await readFile(join(ctx, 'm/f9.txt/inner'), 'utf8'), 'inner');
    assert.equal((await stat(join(ctx, 'm/f9.txt'))).mode & 0o7777, 0o700);
  });
});

test('the content hash of each file is taken as it is received, keyed by what says it is that file', async () => {
  const big = 'x'.repeat(300 * 1024);
  const entries: Entry[] = [{ name: 'small.txt', body: 'small' }, { name: 'big.bin', body: big }, { name: 'hard', type: 'link', linkname: 'small.txt' }];
  await withDirs(async (ctx) => {
    const hashes: ContextHashes = new Map();
    await receiveContext(Readable.from([await tarOf(entries)]), ctx, undefined, hashes);
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    assert.equal(hashes.get(contentKey(await stat(join(ctx, 'small.txt')))), sha('small'));
    assert.equal(hashes.get(contentKey(await stat(join(ctx, 'hard')))), sha('small'));
    assert.equal(hashes.get(contentKey(await stat(join(ctx, 'big.bin')))), sha(big));
    // a file changed afterwards is not the one received
    await writeFile(join(ctx, 'small.txt'), 'other!');
    assert.equal(hashes.get(contentKey(await stat(join(ctx, 'small.txt')))), undefined);
  });
});

test('a 1 GB Dockerfile (or .dockerignore) is refused with a 400 without being read; 16 MiB is still read', async () => {
  const dir = await mkdtemp('/tmp/berth-ctx-size-');
  try {
    // sparse: a gigabyte that takes no disk
    for (const name of ['Dockerfile', '.dockerignore']) execFileSync('truncate', ['-s', '1G', join(dir, name)]);
    await assert.rejects(readDockerfile(dir, ''), (err: Error) => {
      assert.equal(err.name, 'InvalidParameterError');
      assert.equal(err.message, `Dockerfile exceeds the maximum allowed size of ${CONTEXT_FILE_LIMIT} bytes (16 MiB)`);
      return true;
    });
    await assert.rejects(readContextFile(dir, '.dockerignore'), { name: 'InvalidParameterError' });
    // the limit itself is a Dockerfile still
    await writeFile(join(dir, 'Big'), `FROM scratch\n${'#'.repeat(CONTEXT_FILE_LIMIT - 14)}\n`);
    assert.equal((await readDockerfile(dir, 'Big')).text.length, CONTEXT_FILE_LIMIT);
    execFileSync('truncate', ['-s', String(CONTEXT_FILE_LIMIT + 1), join(dir, 'Big')]);
    await assert.rejects(readDockerfile(dir, 'Big'), { name: 'InvalidParameterError' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
