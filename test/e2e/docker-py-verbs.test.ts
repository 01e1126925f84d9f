// docker-py (Debian's python3-docker) against berth, issue 8 items 2-4: what its own test suite
// does right after starting a short command (commit), exec_run's exit codes when the process
// cannot start, and the error text a client compares at create.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonForFile, type Daemon } from './harness.js';
import { bytesOf, dockerPyEmits } from './python.js';

describe('docker-py verbs', () => {
  const f = daemonForFile();
  const d = (): Daemon => f.daemon();

  test('containers.run(detach=True) then commit at once, 20 times: every commit succeeds', { timeout: 180_000 }, async () => {
    // docker-py's tests/integration/api_container_test.py TestCommit: the commit races the exit
    // of `touch /test`, and must never see a 500 for it.
    const got = await dockerPyEmits(
      d(),
      `
rounds = int(sys.argv[1])
for i in range(rounds):
    container = client.containers.run('busybox', 'touch /test', detach=True)
    try:
        image = container.commit(repository='pycommit', tag='r%d' % i, message='round %d' % i, author='docker-py')
        emit({'id': image.id, 'cmd': image.attrs['Config']['Cmd'], 'author': image.attrs['Author'], 'comment': image.attrs['Comment']})
    finally:
        container.wait()
        container.remove(force=True)
`,
      { args: ['20'], timeoutMs: 170_000 },
    );
    assert.equal(got.length, 20);
    got.forEach((img, i) => {
      assert.match(img.id, /^sha256:[0-9a-f]{64}$/);
      assert.deepEqual(img.cmd, ['touch', '/test']);
      assert.equal(img.author, 'docker-py');
      assert.equal(img.comment, `round ${i}`);
    });
    for (const img of got) await d().api('DELETE', `/images/${img.id}?force=1`);
  });

  test('exec_run of a command that cannot start: moby 28 exit codes', async () => {
    const n = f.name('pyexec');
    await d().dockerOk(['run', '-d', '--name', n, 'busybox', 'sleep', '1000']);
    await d().dockerOk(['exec', n, 'sh', '-c', 'printf x > /notexec; chmod 644 /notexec']);
    const [res] = await dockerPyEmits(
      d(),
      `
c = client.containers.get(sys.argv[1])
out = {}
for key, cmd in [('missing', ['nonexistent']), ('notexec', ['/notexec']), ('dir', ['/etc']), ('self127', ['sh', '-c', 'exit 127'])]:
    r = c.exec_run(cmd)
    out[key] = {'code': r.exit_code, 'output': r.output}
emit(out)
`,
      { args: [n] },
    );
    assert.equal(res.missing.code, 127);
    assert.match(bytesOf(res.missing.output).toString(), /OCI runtime exec failed: .*executable file not found in \$PATH/);
    assert.equal(res.notexec.code, 126);
    assert.match(bytesOf(res.notexec.output).toString(), /permission denied/);
    assert.equal(res.dir.code, 126);
    assert.equal(res.self127.code, 127);
  });

  test("create with an unknown log driver: moby 28's text in the APIError", async () => {
    const [res] = await dockerPyEmits(
      d(),
      `
from docker.types import LogConfig
try:
    client.containers.create('busybox', 'true', log_config=LogConfig(type='asdf'))
    emit({'created': True})
except docker.errors.APIError as e:
    emit({'status': e.status_code, 'explanation': e.explanation})
`,
    );
    assert.deepEqual(res, { status: 400, explanation: "logger: no log driver named 'asdf' is registered" });
  });
});
