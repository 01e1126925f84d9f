import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonMessageError, JsonMessageRenderer, JsonMessageSplitter, progressString, type JsonMessage } from '../../cli/client/progress.js';

class FakeWriter {
  text = '';
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

const PULL: JsonMessage[] = [
  { status: 'Pulling from library/busybox', id: 'latest' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'aaa' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'bbb' },
  { status: 'Downloading', progressDetail: { current: 500_000, total: 2_000_000 }, progress: '[===>  ]', id: 'aaa' },
  { status: 'Download complete', progressDetail: {}, id: 'bbb' },
  { status: 'Pull complete', progressDetail: {}, id: 'aaa' },
  { status: 'Digest: sha256:abc' },
  { status: 'Status: Downloaded newer image for busybox:latest' },
];

test('progress bar text matches jsonmessage', () => {
  assert.equal(progressString({}, 200), '');
  assert.equal(progressString({ current: 500_000, total: 2_000_000 }, 200), `[============>${' '.repeat(38)}]    500kB/2MB`);
  assert.equal(progressString({ current: 500_000, total: 2_000_000 }, 80), '   500kB/2MB');
  assert.equal(progressString({ current: 3_000_000, total: 2_000_000 }, 80), '     3MB');
  assert.equal(progressString({ current: 1234 }, 80), ' 1.234kB');
  assert.equal(progressString({ current: 3, total: 10, units: 'layers' }, 80), '3/10 layers');
  assert.equal(progressString({ current: 10, total: 110, start: 100 }, 80, 110), '     10B/110B 1m40s');
});

test('off a terminal: plain status lines, no bars', () => {
  const out = new FakeWriter();
  const r = new JsonMessageRenderer(out, false);
  for (const m of PULL) r.render(m);
  assert.equal(out.text, [
    'latest: Pulling from library/busybox',
    'aaa: Pulling fs layer',
    'bbb: Pulling fs layer',
    'bbb: Download complete',
    'aaa: Pull complete',
    'Digest: sha256:abc',
    'Status: Downloaded newer image for busybox:latest',
    '',
  ].join('\n'));
});

test('on a terminal: one line per layer, redrawn with cursor moves', () => {
  const out = new FakeWriter();
  const r = new JsonMessageRenderer(out, true, 200);
  for (const m of PULL.slice(0, 4)) r.render(m);
  const bar = `[============>${' '.repeat(38)}]    500kB/2MB`;
  assert.equal(out.text, [
    'latest: Pulling from library/busybox\n',
    // first layer gets a new line, moves up 1, clears, writes, moves down 1
    '\n\x1b[1A\x1b[2K\raaa: Pulling fs layer \r\x1b[1B',
    '\n\x1b[1A\x1b[2K\rbbb: Pulling fs layer \r\x1b[1B',
    // aaa is two lines up from the bottom now
    `\x1b[2A\x1b[2K\raaa: Downloading ${bar}\r\x1b[2B`,
  ].join(''));
});

test('errors end the stream with the errorDetail message', () => {
  const out = new FakeWriter();
  const r = new JsonMessageRenderer(out, false);
  assert.throws(
    () => r.render({ errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' }),
    (err: unknown) => err instanceof JsonMessageError && err.message === 'manifest unknown',
  );
});

test('the splitter handles messages split across chunks and \\r\\n', () => {
  const s = new JsonMessageSplitter();
  assert.deepEqual(s.push('{"status":"a"}\r\n{"sta'), [{ status: 'a' }]);
  assert.deepEqual(s.push('tus":"b"}\r\n'), [{ status: 'b' }]);
  assert.deepEqual(s.push('{"status":"c"}'), []);
  assert.deepEqual(s.end(), [{ status: 'c' }]);
});
