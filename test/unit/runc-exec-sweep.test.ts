// What a daemon start does with the exec sessions a dead daemon left in <exec-root>/execs
// (src/runtime/runc-exec.ts): a runc-direct session's process is ended only when it is in the
// session's container, its dir goes; a conmon session stays while its process runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runcExecArgs, sweepExecSessions } from '../../src/runtime/runc-exec.js';

async function session(root: string, name: string, files: Record<string, string>): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) await writeFile(join(dir, f), text);
  return dir;
}

test('sweep: runc sessions go (a pid outside their container is left alone), live conmon sessions stay', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-sweep-'));
  // a process that is not in the session's container (a recycled pid): it must survive
  const bystander = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    const runcSession = await session(root, 'a', { 'session.json': JSON.stringify({ containerId: 'c'.repeat(64) }), pid: String(bystander.pid) });
    const starting = await session(root, 'b', { 'session.json': JSON.stringify({ containerId: 'c'.repeat(64) }) });
    const conmonLive = await session(root, 'c', { pid: String(process.pid) });
    const conmonGone = await session(root, 'd', { pid: '999999999' });
    await sweepExecSessions(root);
    assert.equal(existsSync(runcSession), false);
    assert.equal(existsSync(starting), false);
    assert.equal(existsSync(conmonLive), true);
    assert.equal(existsSync(conmonGone), false);
    assert.equal(bystander.exitCode, null);
    assert.equal(bystander.signalCode, null);
  } finally {
    bystander.kill('SIGKILL');
    await rm(root, { recursive: true, force: true });
  }
});

test('sweep: no execs dir is nothing to do', async () => {
  await sweepExecSessions('/nonexistent/berth/execs');
});

test('runc runs in the foreground with its log and pid file in the session dir', () => {
  const args = runcExecArgs({ runtime: { name: 'runc', path: '/usr/sbin/runc', args: ['--systemd-cgroup'] }, runtimeGlobalArgs: ['--root', '/r'], containerId: 'id1', dir: '/s' });
  assert.deepEqual(args, ['--root', '/r', '--systemd-cgroup', '--log', '/s/runc.log', 'exec', '--process', '/s/process.json', '--pid-file', '/s/pid', 'id1']);
  assert.ok(!args.includes('--detach') && !args.includes('-d'));
});
