// docker exec of a process that cannot start (issue 8, item 3), with the docker CLI and exec
// inspect. moby 28 records the runtime's answer (integration/container/exec_linux_test.go
// TestFailedExecExitCode): 127 for a command that is not there, 126 for one that cannot be
// invoked; dockerd before 28.0 overwrote both with 126. A process that runs keeps its own code.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonForFile, type Daemon } from './harness.js';

describe('exec that fails to start', () => {
  const f = daemonForFile();
  const d = (): Daemon => f.daemon();

  /**
   * A detached exec through the API: the start's answer and exec inspect once it has exited.
   * (The CLI's exit code is exec inspect's ExitCode of the attached one.)
   */
  const execInspect = async (box: string, cmd: string[]) => {
    const c = await d().api('POST', `/containers/${box}/exec`, { Cmd: cmd });
    assert.equal(c.status, 201, c.text);
    const s = await d().api('POST', `/exec/${c.json.Id}/start`, { Detach: true });
    let ins = await d().api('GET', `/exec/${c.json.Id}/json`);
    for (let i = 0; i < 200 && ins.json?.Running !== false; i++) {
      await new Promise((r) => setTimeout(r, 25));
      ins = await d().api('GET', `/exec/${c.json.Id}/json`);
    }
    assert.equal(ins.status, 200, ins.text);
    return { start: s, inspect: ins.json };
  };

  test('CLI exit code and exec inspect ExitCode: missing 127, not executable 126, a directory 126', async () => {
    const box = f.name('exec-fail');
    await d().dockerOk(['run', '-d', '--name', box, 'busybox', 'sleep', '1000']);
    await d().dockerOk(['exec', box, 'sh', '-c', 'printf x > /notexec; chmod 644 /notexec']);
    const cases: Array<{ cmd: string[]; code: number; text: RegExp }> = [
      { cmd: ['nonexistent'], code: 127, text: /OCI runtime exec failed: .*exec: "nonexistent": executable file not found in \$PATH/ },
      { cmd: ['/notexec'], code: 126, text: /OCI runtime exec failed: .*exec: "\/notexec": permission denied/ },
      { cmd: ['/etc'], code: 126, text: /OCI runtime exec failed: .*"\/etc": (permission denied|is a directory)/ },
    ];
    for (const { cmd, code, text } of cases) {
      const r = await d().docker(['exec', box, ...cmd]);
      assert.equal(r.code, code, `docker exec ${cmd.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout + r.stderr, text);
      const { start, inspect } = await execInspect(box, cmd);
      assert.equal(inspect.ExitCode, code, `inspect of ${cmd.join(' ')}`);
      assert.equal(inspect.Running, false);
      assert.equal(inspect.Pid, 0);
      // detached, the failure is the start's answer: moby's invalid-configuration 400
      assert.equal(start.status, 400, start.text);
      assert.match(start.json.message, text);
    }
  });

  test('a process that runs and exits 127 or 126 itself keeps its code', async () => {
    const box = f.name('exec-self');
    await d().dockerOk(['run', '-d', '--name', box, 'busybox', 'sleep', '1000']);
    for (const code of [127, 126]) {
      const r = await d().docker(['exec', box, 'sh', '-c', `exit ${code}`]);
      assert.equal(r.code, code, r.stderr);
      assert.equal(r.stdout + r.stderr, '');
      const { start, inspect } = await execInspect(box, ['sh', '-c', `exit ${code}`]);
      assert.equal(start.status, 200, start.text);
      assert.equal(inspect.ExitCode, code);
    }
  });
});
