// docker-py (Debian's python3-docker) against berth (issue 8, item 1): clients iterate the
// stdcopy frames of logs and attach, and Docker sends one frame per log message, so
// `container.logs(stream=True)` yields each line on its own; a partial line (no newline at the
// end) is a message of its own too.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonForFile, type Daemon } from './harness.js';
import { bytesOf, dockerPyEmits } from './python.js';

const TWO_LINES = 'echo hello; echo world';

describe('docker-py', () => {
  const f = daemonForFile();
  const { name } = f;
  const d = (): Daemon => f.daemon();

  /** What a docker-py script emitted as bytes, as strings. */
  const texts = (emitted: any[]): string[] => emitted.map((s: string) => bytesOf(s).toString());

  test('container.logs(stream=True) yields one chunk per line', async () => {
    const n = name('pylogs');
    await d().dockerOk(['run', '--name', n, 'busybox', 'sh', '-c', TWO_LINES]);
    const got = await dockerPyEmits(d(), `
c = client.containers.get(sys.argv[1])
for chunk in c.logs(stream=True):
    emit(chunk)
`, { args: [n] });
    assert.deepEqual(texts(got), ['hello\n', 'world\n']);
  });

  test('containers.run(stream=True) yields one chunk per line', async () => {
    const n = name('pyrun');
    const got = await dockerPyEmits(d(), `
for chunk in client.containers.run('busybox', ['sh', '-c', sys.argv[2]], name=sys.argv[1], stream=True):
    emit(chunk)
`, { args: [n, TWO_LINES] });
    assert.deepEqual(texts(got), ['hello\n', 'world\n']);
  });

  test('container.logs() without stream is the whole output', async () => {
    const n = name('pylogsall');
    await d().dockerOk(['run', '--name', n, 'busybox', 'sh', '-c', TWO_LINES]);
    const [all] = await dockerPyEmits(d(), `emit(client.containers.get(sys.argv[1]).logs())`, { args: [n] });
    assert.equal(bytesOf(all).toString(), 'hello\nworld\n');
  });

  test('logs(stream=True, timestamps=True) yields one timestamped chunk per line', async () => {
    const n = name('pylogsts');
    await d().dockerOk(['run', '--name', n, 'busybox', 'sh', '-c', TWO_LINES]);
    const got = texts(
      await dockerPyEmits(d(), `
for chunk in client.containers.get(sys.argv[1]).logs(stream=True, timestamps=True):
    emit(chunk)
`, { args: [n] }),
    );
    assert.equal(got.length, 2, JSON.stringify(got));
    const stamp = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /;
    assert.match(got[0]!, stamp);
    assert.match(got[1]!, stamp);
    assert.deepEqual(got.map((s) => s.replace(stamp, '')), ['hello\n', 'world\n']);
  });

  test('a partial line (no newline) is a chunk of its own', async () => {
    const n = name('pypartial');
    await d().dockerOk(['run', '--name', n, 'busybox', 'sh', '-c', 'echo one; printf two']);
    const got = await dockerPyEmits(d(), `
for chunk in client.containers.get(sys.argv[1]).logs(stream=True):
    emit(chunk)
`, { args: [n] });
    assert.deepEqual(texts(got), ['one\n', 'two']);
  });

  // attach(logs=True) is left to log-frames.test.ts: docker-py reads the upgraded socket past
  // http.client's buffer, so a replay that arrives with the 101 head is lost (on Docker too).

  test('with a TTY: the bytes as the terminal wrote them, each message timestamped', async () => {
    const [plain, stamped] = await dockerPyEmits(d(), `
c = client.containers.run('busybox', ['sh', '-c', sys.argv[2]], name=sys.argv[1], tty=True, detach=True)
c.wait()
emit(b''.join(c.logs(stream=True)))
emit(c.logs(timestamps=True))
`, { args: [name('pytty'), TWO_LINES] });
    assert.equal(bytesOf(plain).toString(), 'hello\r\nworld\r\n');
    const stamp = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /;
    const lines = bytesOf(stamped).toString().split(/(?<=\n)/);
    assert.equal(lines.length, 2, JSON.stringify(lines));
    for (const l of lines) assert.match(l, stamp);
    assert.deepEqual(lines.map((l) => l.replace(stamp, '')), ['hello\r\n', 'world\r\n']);
  });
});
