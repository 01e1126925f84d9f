// Create-time validation in moby 28's words (issue 8, item 4), as the docker CLI shows them:
// clients compare these texts. What moby accepts (logging mode, options of the none driver) is
// accepted too.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonForFile, type Daemon } from './harness.js';

describe('create errors', () => {
  const f = daemonForFile();
  const d = (): Daemon => f.daemon();

  test('docker run refusals carry the daemon text unwrapped', async () => {
    const cases: Array<{ args: string[]; text: string }> = [
      { args: ['--log-driver', 'asdf'], text: "logger: no log driver named 'asdf' is registered" },
      { args: ['--log-driver', 'local', '--log-opt', 'labels=a'], text: "unknown log opt 'labels' for log driver local" },
      { args: ['--log-opt', 'mode=sometimes'], text: 'logger: logging mode not supported: sometimes' },
      { args: ['--log-opt', 'max-buffer-size=4m'], text: "logger: max-buffer-size option is only supported with 'mode=non-blocking'" },
      { args: ['--cap-add', 'bogus'], text: 'invalid CapAdd: unknown capability: "CAP_BOGUS"' },
      { args: ['-w', 'relative/dir'], text: "the working directory 'relative/dir' is invalid, it needs to be an absolute path" },
      { args: ['--oom-score-adj', '1001'], text: 'Invalid value 1001, range for oom score adj is [-1000, 1000]' },
    ];
    for (const { args, text } of cases) {
      const r = await d().docker(['run', '--rm', ...args, 'busybox', 'true']);
      assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n')[0], `docker: Error response from daemon: ${text}`, args.join(' '));
    }
    // none of them left a container behind
    assert.deepEqual((await d().api('GET', '/containers/json?all=1')).json, []);
  });

  test("what moby accepts: logging mode, max-buffer-size, the none driver's options", async () => {
    assert.equal(await d().dockerOk(['run', '--rm', '--log-opt', 'mode=non-blocking', '--log-opt', 'max-buffer-size=4m', 'busybox', 'echo', 'ok']), 'ok');
    const n = f.name('logged-nonblocking');
    await d().dockerOk(['run', '--name', n, '--log-opt', 'mode=non-blocking', 'busybox', 'echo', 'kept']);
    assert.equal(await d().dockerOk(['logs', n]), 'kept');
    // the CLI refuses options for `none` itself; the daemon, as moby's, takes them
    const none = await d().api('POST', `/containers/create?name=${f.name('none-opts')}`, { Image: 'busybox', HostConfig: { LogConfig: { Type: 'none', Config: { 'max-size': '1m' } } } });
    assert.equal(none.status, 201, none.text);
  });
});
