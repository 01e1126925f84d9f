import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { socketGroup } from '../../src/api/socket-group.js';

test('socket group: by name or gid from the group file, dockerd\'s fallbacks otherwise', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-group-'));
  try {
    const file = join(dir, 'group');
    await writeFile(file, 'root:x:0:\ndocker:x:106:alice\nops:x:4242:\n');
    assert.deepEqual(await socketGroup('docker', '/s.sock', file), { gid: 106 });
    assert.deepEqual(await socketGroup('4242', '/s.sock', file), { gid: 4242 });
    assert.deepEqual(await socketGroup('5555', '/s.sock', file), { gid: 5555 });
    await assert.rejects(socketGroup('nosuch', '/s.sock', file), { message: 'group nosuch not found' });
    await writeFile(file, 'root:x:0:\n');
    // the default group may be missing: the daemon's own group, with moby's warning
    assert.deepEqual(await socketGroup('docker', '/run/x.sock', file), {
      gid: process.getgid!(),
      warning: 'could not change group /run/x.sock to docker: group docker not found',
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('-H tcp:// hosts: dockerd\'s default port, IPv6 brackets, its warnings (more off loopback), /info\'s notice', async () => {
  const { parseTcpHost, tcpWarnings, tcpInfoWarnings } = await import('../../src/engine/system/tcp-hosts.js');
  assert.deepEqual(parseTcpHost('tcp://127.0.0.1:2376'), { host: '127.0.0.1', port: 2376 });
  assert.deepEqual(parseTcpHost('tcp://0.0.0.0'), { host: '0.0.0.0', port: 2375 });
  assert.deepEqual(parseTcpHost('tcp://[::1]:9'), { host: '::1', port: 9 });
  assert.deepEqual(parseTcpHost('tcp://:2375'), { host: '0.0.0.0', port: 2375 });
  assert.equal(parseTcpHost('tcp://h:99999'), undefined);
  assert.equal(parseTcpHost('unix:///x.sock'), undefined);
  assert.equal(tcpWarnings({ host: '127.0.0.1', port: 1 }).lines.length, 3);
  assert.equal(tcpWarnings({ host: '0.0.0.0', port: 1 }).loopback, false);
  assert.equal(tcpWarnings({ host: '0.0.0.0', port: 1 }).lines.length, 5);
  assert.deepEqual(tcpInfoWarnings(['unix:///x.sock']), []);
  assert.match(tcpInfoWarnings(['tcp://0.0.0.0:2375'])[0], /^\[DEPRECATION NOTICE\]: API is accessible on http:\/\/0\.0\.0\.0:2375 without encryption\.\n {9}Access to the remote API/);
});
