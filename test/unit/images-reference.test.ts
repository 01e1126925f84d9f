import { test } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { familiar, familiarString, normalize, parseNormalizedNamed, referenceString } from '../../src/images/reference.js';
import { InvalidParameterError } from '../../src/errors.js';
import { chainIds } from '../../src/images/store/chain-id.js';
import { humanSize, renderProgress } from '../../src/images/progress.js';
import { registryBaseUrl } from '../../src/images/distribution/registry-client.js';
import { applyChanges } from '../../src/images/changes.js';

const D = 'sha256:' + 'ab'.repeat(32);

test('names normalise like Docker', () => {
  const cases: [string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['library/busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['user/app', 'docker.io/user/app:latest'],
    ['127.0.0.1:5000/busybox', '127.0.0.1:5000/busybox:latest'],
    ['localhost/app:v1', 'localhost/app:v1'],
    ['ghcr.io/a/b/c:tag', 'ghcr.io/a/b/c:tag'],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`],
    [`busybox:1@${D}`, `docker.io/library/busybox:1@${D}`],
    ['[::1]:5000/x', '[::1]:5000/x:latest'],
  ];
  for (const [input, want] of cases) assert.equal(referenceString(normalize(input)), want, input);
});

test('familiar form', () => {
  assert.equal(familiar('docker.io/library/busybox:latest'), 'busybox:latest');
  assert.equal(familiar('docker.io/user/app:latest'), 'user/app:latest');
  assert.equal(familiar('docker.io/library/a/b:latest'), 'library/a/b:latest');
  assert.equal(familiar('127.0.0.1:5000/busybox:latest'), '127.0.0.1:5000/busybox:latest');
  assert.equal(familiarString(normalize('busybox')), 'busybox:latest');
});

test('invalid references throw Docker messages', () => {
  const bad: [string, string][] = [
    ['Busybox', 'invalid reference format: repository name (library/Busybox) must be lowercase'],
    ['busybox:', 'invalid reference format'],
    ['-busybox', 'invalid reference format'],
    ['a//b', 'invalid reference format'],
    ['', 'invalid reference format'],
    ['busybox:bad tag', 'invalid reference format'],
    ['busybox@sha256:abc', 'invalid reference format'],
    ['a'.repeat(64).replace(/a/g, 'f'), `invalid repository name (${'f'.repeat(64)}), cannot specify 64-byte hexadecimal strings`],
  ];
  for (const [input, msg] of bad) {
    assert.throws(() => parseNormalizedNamed(input), (e: Error) => e instanceof InvalidParameterError && e.message === msg, input);
  }
  assert.throws(() => parseNormalizedNamed('x'.repeat(256)), InvalidParameterError);
  // A host part may have capitals; the path may not.
  assert.equal(referenceString(normalize('MyHost.example:5000/app')), 'MyHost.example:5000/app:latest');
});

test('chainID per the OCI image spec', () => {
  const a = 'sha256:' + '1'.repeat(64);
  const b = 'sha256:' + '2'.repeat(64);
  const [c0, c1] = chainIds([a, b]);
  assert.equal(c0, a);
  // sha256("sha256:111... sha256:222...")
  assert.equal(c1, 'sha256:' + createHash('sha256').update(`${a} ${b}`).digest('hex'));
  assert.deepEqual(chainIds([]), []);
});


test('progress bar and sizes render like go-units / jsonmessage', () => {
  assert.equal(humanSize(512), '512B');
  assert.equal(humanSize(1048576), '1.049MB');
  assert.equal(humanSize(2152262), '2.152MB');
  assert.equal(humanSize(1000), '1kB');
  assert.equal(renderProgress(1048576, 2152262), `[${'='.repeat(24)}>${' '.repeat(26)}]  1.049MB/2.152MB`);
  assert.equal(renderProgress(0, 0), '');
});

test('registry endpoints', () => {
  assert.equal(registryBaseUrl('docker.io'), 'https://registry-1.docker.io');
  assert.equal(registryBaseUrl('127.0.0.1:5000'), 'http://127.0.0.1:5000');
  assert.equal(registryBaseUrl('127.3.4.5'), 'http://127.3.4.5');
  assert.equal(registryBaseUrl('localhost:5000'), 'http://localhost:5000');
  assert.equal(registryBaseUrl('[::1]:5000'), 'http://[::1]:5000');
  assert.equal(registryBaseUrl('ghcr.io'), 'https://ghcr.io');
  assert.equal(registryBaseUrl('128.0.0.1:5000'), 'https://128.0.0.1:5000');
});

test('--change instructions', () => {
  const cfg = applyChanges({}, ['CMD echo hi', 'ENTRYPOINT ["/bin/sh","-c"]', 'ENV A=1 B="two words"', 'ENV C 3', 'USER nobody', 'VOLUME /data', 'EXPOSE 53/udp 80']);
  assert.deepEqual(cfg.Cmd, ['/bin/sh', '-c', 'echo hi']);
  assert.deepEqual(cfg.Entrypoint, ['/bin/sh', '-c']);
  assert.deepEqual(cfg.Env, ['A=1', 'B=two words', 'C=3']);
  assert.equal(cfg.User, 'nobody');
  assert.deepEqual(cfg.Volumes, { '/data': {} });
  assert.deepEqual(cfg.ExposedPorts, { '53/udp': {}, '80/tcp': {} });
  assert.throws(() => applyChanges({}, ['RUN ls']), { message: 'run is not a valid change command' });
  // not in moby's validCommitCommands (dockerd 20.10 refuses it too)
  assert.throws(() => applyChanges({}, ['STOPSIGNAL SIGINT']), { message: 'stopsignal is not a valid change command' });
});
