// The manifest bytes a push puts: Docker's schema2 marshalling, checked against a manifest
// dockerd 20.10 pushed to docker-registry (busybox fixture, `docker push`, `skopeo inspect --raw`),
// and the rule that an image's own manifest is reused only when it names the same blobs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { reusableManifest, schema2Manifest } from '../../src/images/distribution/push-manifest.js';

const DOCKERD_PUSHED = `{
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
   "config": {
      "mediaType": "application/vnd.docker.container.image.v1+json",
      "size": 381,
      "digest": "sha256:8476424b2bdfe70630afe8c69b62199e925d1e5cee9f46de5eaebb9de01b99e0"
   },
   "layers": [
      {
         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
         "size": 1068703,
         "digest": "sha256:fb99b932fbc289b9747458eac95f7d474b1319fecdc3187edad555932b88b89d"
      }
   ]
}`;
const config = { digest: 'sha256:8476424b2bdfe70630afe8c69b62199e925d1e5cee9f46de5eaebb9de01b99e0', size: 381 };
const layer = { digest: 'sha256:fb99b932fbc289b9747458eac95f7d474b1319fecdc3187edad555932b88b89d', size: 1068703 };

test('schema2 manifest bytes and digest are what dockerd pushes for the same blobs', () => {
  const m = schema2Manifest(config, [layer]);
  assert.equal(m.body.toString('utf8'), DOCKERD_PUSHED);
  assert.equal(m.body.length, 527);
  assert.equal(m.digest, 'sha256:15ebece1f42618192b93d96512e086a45bdc98c4511c0d110d7d60bc4887bfde');
  assert.equal(m.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
});

test('layers keep their order; a zstd layer keeps its OCI media type', () => {
  const second = { digest: `sha256:${'a'.repeat(64)}`, size: 10 };
  const m = JSON.parse(schema2Manifest(config, [layer, second], ['application/vnd.oci.image.layer.v1.tar', 'application/vnd.oci.image.layer.v1.tar+zstd']).body.toString());
  assert.deepEqual(m.layers.map((l: { digest: string }) => l.digest), [layer.digest, second.digest]);
  assert.equal(m.layers[0].mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
  assert.equal(m.layers[1].mediaType, 'application/vnd.oci.image.layer.v1.tar+zstd');
});

test('the image manifest is reused byte for byte only when it names the same blobs', () => {
  const oci = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }] }));
  const reused = reusableManifest(oci, config, [layer]);
  assert.ok(reused);
  assert.equal(reused.body, oci);
  assert.equal(reused.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.equal(reused.digest, `sha256:${createHash('sha256').update(oci).digest('hex')}`);
  assert.equal(reusableManifest(oci, config, [{ ...layer, digest: `sha256:${'b'.repeat(64)}` }]), undefined);
  assert.equal(reusableManifest(oci, { ...config, size: 1 }, [layer]), undefined);
  assert.equal(reusableManifest(Buffer.from('{"manifests":[]}'), config, [layer]), undefined);
  assert.equal(reusableManifest(Buffer.from('not json'), config, [layer]), undefined);
});
