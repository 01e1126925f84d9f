// TarHeaderGuard (cp's upload guard) keeps its place through PAX size records: Go's archive/tar
// (the docker CLI) writes files of 8 GiB and more with the size in a PAX record and 0 in the
// ustar field (security review §14: the guard used to lose its place and refuse the upload).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { TarHeaderGuard, paxSize } from '../../src/util/tar-guard.js';
import { tarOf } from '../fixtures/tar-of.js';

const packed = (entries: [Partial<tar.Header> & { name: string }, Buffer][]) => tarOf(entries.map(([header, body]) => ({ header, body })));

/** Zero the ustar size field of the header at `offset` (as Go leaves it when PAX carries the size). */
function zeroUstarSize(buf: Buffer, offset: number): void {
  buf.fill(0x30, offset + 124, offset + 135); // "00000000000"
  buf.fill(0x20, offset + 148, offset + 156); // checksum computed with spaces
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += buf[offset + i]!;
  buf.write(sum.toString(8).padStart(6, '0') + '\0 ', offset + 148, 'latin1');
}

async function throughGuard(buf: Buffer): Promise<{ name: string; size: number }[]> {
  const out: { name: string; size: number }[] = [];
  const extract = tar.extract();
  const src = new PassThrough();
  const feeding = pipeline(src, new TarHeaderGuard(), extract);
  feeding.catch(() => undefined);
  // small chunks: the guard must carry its state across them
  for (let i = 0; i < buf.length; i += 97) src.write(buf.subarray(i, i + 97));
  src.end();
  for await (const e of extract) {
    let n = 0;
    for await (const c of e) n += (c as Buffer).length;
    out.push({ name: e.header.name, size: n });
  }
  await feeding;
  return out;
}

test('paxSize reads the size record among others', () => {
  const rec = (k: string, v: string) => {
    const body = ` ${k}=${v}\n`;
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len++;
    return `${len}${body}`;
  };
  assert.equal(paxSize(Buffer.from(rec('path', 'a/b') + rec('size', '8589934592') + rec('mtime', '1.5'))), 8589934592);
  assert.equal(paxSize(Buffer.from(rec('path', 'x'))), undefined);
});

test('a file whose size is only in a PAX record passes the guard whole', async () => {
  const body = Buffer.alloc(600, 0x61);
  const buf = await packed([
    [{ name: 'f', size: 600, pax: { size: '600' } }, body],
    [{ name: 'g', size: 3 }, Buffer.from('abc')],
  ]);
  // the file's own header follows the PAX header and its one block of records
  zeroUstarSize(buf, 1024);
  assert.deepEqual(await throughGuard(buf), [
    { name: 'f', size: 600 },
    { name: 'g', size: 3 },
  ]);
});
