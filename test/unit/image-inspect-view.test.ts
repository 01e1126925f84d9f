// GET /images/{name}/json per API version, checked against moby 28 (getImagesByName and its
// legacyConfigFields) and, for the empty ContainerConfig, against what dockerd 20.10 printed
// for an imported image.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { imageInspectCompat } from '../../src/api/routes/images.js';
import { imageInspectView } from '../../src/engine/image-view.js';
import type { ImageRecord } from '../../src/images/types.js';

function image(extra: Record<string, unknown> = {}, config?: ImageRecord['config']['config']): ImageRecord {
  return {
    id: `sha256:${'e'.repeat(64)}`,
    repoTags: ['docker.io/library/imp:1'],
    repoDigests: [],
    config: { architecture: 'amd64', os: 'linux', config, rootfs: { type: 'layers', diff_ids: [`sha256:${'b'.repeat(64)}`] }, ...extra },
    size: 3,
    storedAt: '2026-11-29T17:52:50.059519541Z',
  };
}

const inspect = (img: ImageRecord, version: string) => imageInspectView(img, imageInspectCompat(version)) as Record<string, any>;

// dockerd 20.10, GET /v1.41/images/imp:1/json after `docker import`
const EMPTY_CONTAINER_CONFIG =
  '{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,' +
  '"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,' +
  '"OnBuild":null,"Labels":null}';

describe('image inspect: Container and ContainerConfig', () => {
  it('API 1.44 and older: an image without container_config gets an empty container config, and no Container', () => {
    for (const v of ['1.24', '1.41', '1.44']) {
      const out = inspect(image(), v);
      assert.equal(JSON.stringify(out.ContainerConfig), EMPTY_CONTAINER_CONFIG, v);
      assert.equal('Container' in out, false, v);
    }
  });

  it("API 1.44: a classic builder's container and container_config come through in container.Config's shape", () => {
    const cc = { Cmd: ['/bin/sh', '-c', '#(nop) VOLUME [/data]'], Volumes: { '/data': {} }, ExposedPorts: { '80/tcp': {} }, Env: ['A=1'], ArgsEscaped: false };
    const out = inspect(image({ container: 'c0ffee', container_config: cc }), '1.44');
    assert.equal(out.Container, 'c0ffee');
    assert.deepEqual(out.ContainerConfig.Volumes, { '/data': {} });
    assert.deepEqual(out.ContainerConfig.Cmd, cc.Cmd);
    assert.deepEqual(out.ContainerConfig.ExposedPorts, { '80/tcp': {} });
    assert.equal('ArgsEscaped' in out.ContainerConfig, false, 'omitempty');
    assert.deepEqual(Object.keys(out.ContainerConfig).slice(0, 7), ['Hostname', 'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'ExposedPorts']);
  });

  it('API 1.45 and newer: neither field, even when the image has them', () => {
    for (const v of ['1.45', '1.50']) {
      const out = inspect(image({ container: 'c0ffee', container_config: { Cmd: ['x'] } }), v);
      assert.equal('Container' in out, false, v);
      assert.equal('ContainerConfig' in out, false, v);
    }
  });
});

describe('image inspect: Config and VirtualSize per version', () => {
  it('API 1.50: Config always has the keys moby never omitted, sorted, the image values winning', () => {
    const out = inspect(image({}, { Cmd: ['sh'], Env: ['PATH=/bin'] }), '1.50');
    assert.deepEqual(out.Config, { Cmd: ['sh'], Entrypoint: null, Env: ['PATH=/bin'], Labels: null, OnBuild: null, User: '', Volumes: null, WorkingDir: '' });
    assert.equal('VirtualSize' in out, false);
  });

  it("API 1.49: Config also has container.Config's fields the OCI config lacks", () => {
    const out = inspect(image(), '1.49');
    assert.equal(out.Config.Hostname, '');
    assert.equal(out.Config.Tty, false);
    assert.equal(out.Config.Image, '');
    assert.deepEqual(Object.keys(out.Config), [...Object.keys(out.Config)].sort());
  });

  it('API 1.43: VirtualSize equals Size', () => {
    assert.equal(inspect(image(), '1.43').VirtualSize, 3);
    assert.equal('VirtualSize' in inspect(image(), '1.44'), false);
  });
});
