// The CRI front end's pure parts: the daemon.json `cri` block and `--cri`, the gRPC error mapping,
// the proto's shape and decoding conventions, and that a daemon without CRI imports none of it.
import { after, test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { status } from '@grpc/grpc-js';
import { ConfigError, parseDaemonArgs } from '../../src/engine/system/daemon-config.js';
import { CriAlreadyExistsError, grpcStatusOf } from '../../src/cri/errors.js';
import { CRI_PROTO_PATH, loadCriServices } from '../../src/cri/proto.js';
import { ConflictError, InvalidParameterError, NotFoundError, NotImplementedError, SystemError, UnauthorizedError } from '../../src/errors.js';

const cfgDir = mkdtempSync('/tmp/cri-cfg-');
after(() => rmSync(cfgDir, { recursive: true, force: true }));

function withFile(json: unknown, extra: string[] = []) {
  const file = join(cfgDir, 'daemon.json');
  writeFileSync(file, typeof json === 'string' ? json : JSON.stringify(json));
  return parseDaemonArgs(['--config-file', file, '--exec-root', '/run/bx', ...extra]);
}

describe('cri config', () => {
  test('off by default, with defaults under the exec-root', () => {
    const c = withFile({});
    assert.equal(c.cri.enabled, false);
    assert.equal(c.cri.socket, '/run/bx/cri.sock');
    assert.equal(c.cri.streamAddress, '127.0.0.1');
    assert.equal(c.cri.streamPort, 0);
    assert.equal(c.cri.sandboxImage, 'registry.k8s.io/pause:3.10');
    assert.equal(c.cri.podSubnet, '10.223.0.0/16');
    assert.deepEqual(c.cri.registryMirrors, {});
    assert.equal(c.cri.imagePullProgressTimeoutMs, 300_000);
  });

  test('--cri enables it; --cri=false does not', () => {
    assert.equal(withFile({}, ['--cri']).cri.enabled, true);
    assert.equal(withFile({}, ['--cri=false']).cri.enabled, false);
    assert.throws(() => withFile({}, ['--cri=maybe']), /invalid argument "maybe" for "--cri" flag/);
  });

  test('the daemon.json block is read whole', () => {
    const c = withFile({
      cri: {
        enabled: true,
        socket: 'unix:///run/bx/k.sock',
        'stream-address': '127.0.0.1',
        'stream-port': 10010,
        'sandbox-image': 'localhost:5000/pause:1',
        'registry-mirrors': { 'registry.k8s.io': ['http://127.0.0.1:5000/'] },
        'pod-subnet': '10.224.0.0/16',
        'image-pull-progress-timeout': '1m30s',
      },
    });
    assert.equal(c.cri.imagePullProgressTimeoutMs, 90_000);
    assert.equal(withFile({ cri: { 'image-pull-progress-timeout': '0' } }).cri.imagePullProgressTimeoutMs, 0);
    assert.equal(c.cri.enabled, true);
    assert.equal(c.cri.socket, '/run/bx/k.sock');
    assert.equal(c.cri.streamPort, 10010);
    assert.equal(c.cri.sandboxImage, 'localhost:5000/pause:1');
    assert.deepEqual(c.cri.registryMirrors, { 'registry.k8s.io': ['http://127.0.0.1:5000'] });
    assert.equal(c.cri.podSubnet, '10.224.0.0/16');
  });

  test('bad values are refused in dockerd\'s words', () => {
    const cases: [unknown, RegExp][] = [
      [{ cri: { enabled: 'yes' } }, /json: cannot unmarshal string into Go struct field Config\.cri\.enabled of type bool/],
      [{ cri: [] }, /cannot unmarshal array into Go struct field Config\.cri of type/],
      [{ cri: { bogus: 1 } }, /the following directives don't match any configuration option: cri\.bogus/],
      [{ cri: { socket: 'relative.sock' } }, /cri\.socket must be an absolute path/],
      [{ cri: { socket: `/${'x'.repeat(120)}` } }, /longer than a unix socket path/],
      [{ cri: { 'stream-port': 70000 } }, /invalid cri\.stream-port: 70000/],
      [{ cri: { 'stream-port': '1' } }, /cannot unmarshal string into Go struct field Config\.cri\.stream-port of type int/],
      [{ cri: { 'pod-subnet': '10.0.0.0' } }, /invalid cri\.pod-subnet/],
      [{ cri: { 'sandbox-image': '' } }, /sandbox-image must not be empty/],
      [{ cri: { 'image-pull-progress-timeout': '5' } }, /invalid cri\.image-pull-progress-timeout: time: invalid duration "5"/],
      [{ cri: { 'image-pull-progress-timeout': 5 } }, /cannot unmarshal number into Go struct field Config\.cri\.image-pull-progress-timeout of type string/],
      [{ cri: { 'registry-mirrors': { 'registry.k8s.io': 'http://x' } } }, /cannot unmarshal string into Go struct field Config\.cri\.registry-mirrors of type \[\]string/],
      [{ cri: { 'registry-mirrors': { 'registry.k8s.io': ['ftp://x'] } } }, /must be an http:\/\/ or https:\/\/ URL/],
      [{ cri: { 'registry-mirrors': { 'registry.k8s.io': ['http://u:p@x'] } } }, /without credentials/],
      [{ cri: { 'registry-mirrors': { 'bad host/x': ['http://x'] } } }, /invalid registry host/],
    ];
    for (const [json, re] of cases) {
      assert.throws(() => withFile(json), (err: unknown) => err instanceof ConfigError && re.test(err.message) && /unable to configure the daemon with file/.test(err.message), JSON.stringify(json));
    }
  });
});

describe('cri errors', () => {
  test('typed errors map to gRPC codes in one place', () => {
    assert.equal(grpcStatusOf(new NotFoundError('x')).code, status.NOT_FOUND);
    assert.equal(grpcStatusOf(new InvalidParameterError('x')).code, status.INVALID_ARGUMENT);
    assert.equal(grpcStatusOf(new ConflictError('x')).code, status.FAILED_PRECONDITION);
    assert.equal(grpcStatusOf(new CriAlreadyExistsError('x')).code, status.ALREADY_EXISTS);
    assert.equal(grpcStatusOf(new NotImplementedError('x')).code, status.UNIMPLEMENTED);
    assert.equal(grpcStatusOf(new UnauthorizedError('x')).code, status.UNAUTHENTICATED);
    const unknown = grpcStatusOf(new SystemError('runc failed: boom'));
    assert.deepEqual(unknown, { code: status.UNKNOWN, details: 'runc failed: boom' });
    assert.equal(grpcStatusOf(new Error('x'), { deadlinePassed: true }).code, status.DEADLINE_EXCEEDED);
    assert.equal(grpcStatusOf(Object.assign(new Error('a'), { name: 'AbortError' })).code, status.CANCELLED);
    // a handler may pick its own code
    assert.deepEqual(grpcStatusOf({ code: status.RESOURCE_EXHAUSTED, details: 'too big' }), { code: status.RESOURCE_EXHAUSTED, details: 'too big' });
  });
});

describe('cri proto', () => {
  test('package runtime.v1: 29 RuntimeService and 5 ImageService RPCs with the wire paths', () => {
    const s = loadCriServices();
    const runtime = Object.values(s.RuntimeService.service).map((m) => m.path);
    const image = Object.values(s.ImageService.service).map((m) => m.path);
    assert.equal(runtime.length, 29);
    assert.equal(image.length, 5);
    assert.ok(runtime.includes('/runtime.v1.RuntimeService/Version'));
    assert.ok(runtime.includes('/runtime.v1.RuntimeService/ListPodSandbox'));
    assert.ok(image.includes('/runtime.v1.ImageService/PullImage'));
    assert.ok(image.includes('/runtime.v1.ImageService/ImageFsInfo'));
    assert.equal(s.RuntimeService.service.GetContainerEvents.responseStream, true);
  });

  test('decoding keeps presence, int64 as strings, enums as names', () => {
    const s = loadCriServices();
    const m = s.RuntimeService.service.CreateContainer;
    const wire = m.requestSerialize({
      podSandboxId: 'p',
      config: {
        metadata: { name: 'c' },
        linux: {
          securityContext: { seccomp: {}, runAsUser: { value: '0' }, namespaceOptions: { pid: 'CONTAINER' } },
          resources: { memoryLimitInBytes: '9007199254740993' },
        },
      },
    });
    const back = m.requestDeserialize(wire) as any;
    const sc = back.config.linux.securityContext;
    // present but empty: RuntimeDefault; absent: unconfined
    assert.deepEqual(sc.seccomp, {});
    assert.equal(sc.apparmor, undefined);
    // an Int64Value of 0 is present (run as root) even though its value is the default
    assert.ok(sc.runAsUser);
    assert.equal(sc.runAsGroup, undefined);
    assert.equal(sc.namespaceOptions.pid, 'CONTAINER');
    assert.equal(back.config.linux.resources.memoryLimitInBytes, '9007199254740993');
  });

  test('field numbers that other runtimes depend on', () => {
    const text = readFileSync(CRI_PROTO_PATH, 'utf8');
    // a few wire facts checked by number: a wrong one would decode kubelet's requests silently wrong
    for (const line of [
      'Int64Value run_as_group = 12;',
      'SecurityProfile seccomp = 15;',
      'string run_as_username = 6;',
      'Int64Value run_as_group = 8;',
      'SecurityProfile seccomp = 9;',
      'int64 memory_swap_limit_in_bytes = 10;',
      'string user_specified_image = 18;',
      'string runtime_handler = 19;',
      'repeated ContainerStatus containers_statuses = 3;',
    ]) assert.ok(text.includes(line), line);
  });
});

describe('cri is loaded only when enabled', () => {
  test('nothing under src/cri or @grpc is in the daemon\'s static import graph', () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
    const start = join(root, 'cli/daemon.js');
    const seen = new Set<string>();
    const bare = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = readFileSync(file, 'utf8');
      // static imports and re-exports only: `await import(...)` is the dynamic path CRI takes
      for (const m of src.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm)) {
        const spec = m[1] ?? m[2];
        if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
        else bare.add(spec);
      }
    };
    visit(start);
    assert.ok(seen.size > 50, `walked ${seen.size} modules`);
    assert.ok([...seen].some((f) => f.endsWith('/src/engine/engine.js')));
    assert.deepEqual([...seen].filter((f) => f.includes('/src/cri/')), []);
    assert.deepEqual([...bare].filter((b) => b.startsWith('@grpc/') || b === 'protobufjs'), []);
  });
});
