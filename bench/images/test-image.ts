/**
 * The image the image benchmarks move around: the busybox fixture's rootfs as its first layer,
 * then `layers` layers of generated files, `sizeMB` MB of file content in all.
 *
 * Real images are neither all text nor all random: by default 30% of the files are random bytes
 * (gzip cannot shrink them, like binaries already compressed) and the rest text-like words (gzip
 * shrinks them about 4x), so the image compresses about 2x as a Debian-based one does (issue 10
 * measured 63 MB gzip / 147 MB). Files are mostly small (4 KiB to 128 KiB) with one large file
 * per layer, so unpacking pays per-file costs as with a real rootfs.
 *
 * Written once per parameter set under CACHE and reused by later runs:
 *   oci/           an OCI image layout (skopeo pushes it to the bench registry)
 *   image.tar      the same blobs as one tar that is both an OCI layout and a docker-archive
 *                  (manifest.json naming the gzip blobs), as Docker 25+ writes: `docker load`
 *                  on both dockerd 20.10 and berth reads it
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { prepareFixtures } from '../../test/e2e/harness.js';
import { DEFAULT_PATH_ENV } from '../../test/fixtures/image-archive.js';

const CACHE = '/tmp/berth-bench-images';
const CREATED = '2024-01-01T00:00:00Z';
const MTIME = new Date(CREATED);

export interface TestImageOptions {
  /** Generated layers on top of busybox (default 5). */
  layers?: number;
  /** File content in the generated layers, MB (default 150). */
  sizeMB?: number;
  /** Share of the content that is random bytes, 0..1 (default 0.3). */
  randomShare?: number;
  /** The name the image carries in image.tar and index.json (default bench/big:latest). */
  name?: string;
}

export interface LayerInfo {
  digest: string;
  diffId: string;
  /** Compressed size. */
  size: number;
  /** Uncompressed tar size. */
  tarSize: number;
}

export interface TestImage {
  name: string;
  /** OCI layout directory. */
  ociDir: string;
  /** One tar that is both an OCI layout and a docker-archive. */
  archive: string;
  /** Image ID (config digest). */
  id: string;
  manifestDigest: string;
  layers: LayerInfo[];
  /** Sum of compressed layer sizes (what a pull downloads). */
  compressedBytes: number;
  /** Sum of uncompressed layer tars (what a save writes, about). */
  tarBytes: number;
}

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Counts and hashes the bytes that pass. */
class Digester extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.push(chunk);
    cb();
  }
  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

const WORDS = (() => {
  // 256 short words, so one random byte picks one: about 5 characters per 8 bits of entropy
  const syllables = ['ka', 'lo', 'mi', 'nu', 'pe', 'ra', 'si', 'to', 'ul', 've', 'xo', 'ze', 'an', 'bo', 'ci', 'de'];
  const out: string[] = [];
  for (const a of syllables) for (const b of syllables) out.push(a + b + (out.length % 3 === 0 ? 's' : ''));
  return out;
})();

function textContent(size: number): Buffer {
  const picks = randomBytes(Math.ceil(size / 4) + 16);
  const parts: string[] = [];
  let len = 0;
  for (let i = 0; len < size; i++) {
    const w = WORDS[picks[i % picks.length]!]! + (i % 12 === 11 ? '\n' : ' ');
    parts.push(w);
    len += w.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

/** File sizes for one layer: small files up to its share, one large file for the rest. */
function fileSizes(layerBytes: number): number[] {
  const sizes: number[] = [];
  let small = Math.floor(layerBytes * 0.6);
  while (small > 0) {
    const s = Math.min(small, 4096 + Math.floor(Math.random() * 124 * 1024));
    sizes.push(s);
    small -= s;
  }
  sizes.push(layerBytes - sizes.reduce((a, b) => a + b, 0));
  return sizes;
}

/** Gzips one layer tar from `source` into blobsDir. */
async function writeLayer(blobsDir: string, source: Readable): Promise<LayerInfo> {
  const tmp = join(blobsDir, `.layer-${process.pid}-${Date.now()}`);
  const tarDigest = new Digester();
  const gzDigest = new Digester();
  await pipeline(source, tarDigest, createGzip({ level: 6 }), gzDigest, createWriteStream(tmp));
  const digest = gzDigest.digest();
  await rename(tmp, join(blobsDir, digest.slice(7)));
  return { digest, diffId: tarDigest.digest(), size: gzDigest.bytes, tarSize: tarDigest.bytes };
}

/** A layer whose entries `fill` adds. */
async function packedLayer(blobsDir: string, fill: (pack: tar.Pack) => Promise<void>): Promise<LayerInfo> {
  const pack = tar.pack();
  const written = writeLayer(blobsDir, pack as unknown as Readable);
  await fill(pack);
  pack.finalize();
  return written;
}

function addEntry(pack: tar.Pack, header: Partial<tar.Header> & { name: string }, body?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const cb = (err?: Error | null) => (err ? reject(err) : resolve());
    const h = { ...header, mtime: header.mtime ?? MTIME, uid: header.uid ?? 0, gid: header.gid ?? 0 } as tar.Header;
    if (body === undefined) pack.entry(h, cb);
    else pack.entry(h, body, cb);
  });
}

async function generatedLayer(blobsDir: string, index: number, bytes: number, randomShare: number): Promise<LayerInfo> {
  return packedLayer(blobsDir, async (pack) => {
    const dir = `opt/bench/layer${index}`;
    await addEntry(pack, { name: 'opt/', type: 'directory', mode: 0o755 });
    await addEntry(pack, { name: 'opt/bench/', type: 'directory', mode: 0o755 });
    await addEntry(pack, { name: `${dir}/`, type: 'directory', mode: 0o755 });
    let randomLeft = bytes * randomShare;
    for (const [n, size] of fileSizes(bytes).entries()) {
      if (n % 64 === 0) await addEntry(pack, { name: `${dir}/d${n / 64}/`, type: 'directory', mode: 0o755 });
      const random = n % 2 === 0 && randomLeft >= size;
      if (random) randomLeft -= size;
      await addEntry(pack, { name: `${dir}/d${Math.floor(n / 64)}/f${n}`, mode: 0o644 }, random ? randomBytes(size) : textContent(size));
    }
  });
}

/**
 * The busybox fixture's rootfs plus /etc/bench-image: a layer of its own, so that the busybox
 * image the benches load beforehand shares no layer with this one (a pull from a cold store
 * fetches every layer, and no layer's blob is one the daemon got some other way).
 */
async function busyboxLayer(blobsDir: string): Promise<LayerInfo> {
  const extract = tar.extract();
  const read = pipeline(createReadStream((await prepareFixtures()).rootfs), extract as unknown as NodeJS.WritableStream);
  const layer = packedLayer(blobsDir, async (pack) => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      await addEntry(pack, entry.header, entry.header.type === 'file' ? Buffer.concat(chunks) : undefined);
    }
    await addEntry(pack, { name: 'etc/bench-image', mode: 0o644 }, Buffer.from('berth bench test image\n'));
  });
  await read;
  return layer;
}

function keyOf(o: Required<TestImageOptions>): string {
  return `${o.name.replace(/[^a-zA-Z0-9]+/g, '_')}-${o.layers}x-${o.sizeMB}MB-r${Math.round(o.randomShare * 100)}`;
}

/** Makes the image (or finds it made by an earlier run). */
export async function testImage(opts: TestImageOptions = {}): Promise<TestImage> {
  const o: Required<TestImageOptions> = { layers: opts.layers ?? 5, sizeMB: opts.sizeMB ?? 150, randomShare: opts.randomShare ?? 0.3, name: opts.name ?? 'bench/big:latest' };
  const base = join(CACHE, keyOf(o));
  const infoFile = join(base, 'image.json');
  if (existsSync(infoFile)) {
    const info = JSON.parse(await readFile(infoFile, 'utf8')) as TestImage;
    if (existsSync(info.archive) && existsSync(join(info.ociDir, 'index.json'))) return info;
  }
  await rm(base, { recursive: true, force: true });
  const ociDir = join(base, 'oci');
  const blobsDir = join(ociDir, 'blobs', 'sha256');
  await mkdir(blobsDir, { recursive: true });
  process.stderr.write(`bench: making the test image ${o.name} (busybox + ${o.layers} layers, ${o.sizeMB} MB) in ${base}...\n`);
  const layers = [await busyboxLayer(blobsDir)];
  const perLayer = Math.floor((o.sizeMB * 1024 * 1024) / o.layers);
  for (let i = 0; i < o.layers; i++) layers.push(await generatedLayer(blobsDir, i, perLayer, o.randomShare));

  const history = [{ created: CREATED, created_by: 'berth bench: busybox rootfs' }];
  for (let i = 0; i < o.layers; i++) history.push({ created: CREATED, created_by: `berth bench: ${perLayer} bytes of files in /opt/bench/layer${i}` });
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: CREATED,
      config: { Env: [DEFAULT_PATH_ENV], Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history,
    }),
  );
  const configDigest = sha256(config);
  await writeFile(join(blobsDir, configDigest.slice(7)), config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
    }),
  );
  const manifestDigest = sha256(manifest);
  await writeFile(join(blobsDir, manifestDigest.slice(7)), manifest);
  const tag = o.name.slice(o.name.lastIndexOf(':') + 1);
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: manifestDigest,
        size: manifest.length,
        annotations: { 'io.containerd.image.name': `docker.io/${o.name}`, 'org.opencontainers.image.ref.name': tag },
      },
    ],
  });
  await writeFile(join(ociDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(ociDir, 'index.json'), index);

  const archive = join(base, 'image.tar');
  await writeArchive(archive, ociDir, index, {
    Config: `blobs/sha256/${configDigest.slice(7)}`,
    RepoTags: [o.name],
    Layers: layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
  });
  const info: TestImage = {
    name: o.name,
    ociDir,
    archive,
    id: configDigest,
    manifestDigest,
    layers,
    compressedBytes: layers.reduce((a, l) => a + l.size, 0),
    tarBytes: layers.reduce((a, l) => a + l.tarSize, 0),
  };
  await writeFile(infoFile, JSON.stringify(info, null, 2));
  return info;
}

/** The OCI layout's files and manifest.json in one tar, blobs streamed from disk. */
async function writeArchive(path: string, ociDir: string, index: string, entry: { Config: string; RepoTags: string[]; Layers: string[] }): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, createWriteStream(`${path}.tmp`));
  await addEntry(pack, { name: 'blobs/', type: 'directory', mode: 0o755 });
  await addEntry(pack, { name: 'blobs/sha256/', type: 'directory', mode: 0o755 });
  const blobs = [entry.Config, ...entry.Layers];
  for (const name of blobs) {
    const file = join(ociDir, name);
    const size = (await stat(file)).size;
    await new Promise<void>((resolve, reject) => {
      const sink = pack.entry({ name, size, mode: 0o644, mtime: MTIME }, (err) => (err ? reject(err) : resolve()));
      (createReadStream(file) as Readable).pipe(sink);
    });
  }
  const manifestPath = join(ociDir, 'blobs', 'sha256', JSON.parse(index).manifests[0].digest.slice(7));
  await addEntry(pack, { name: `blobs/sha256/${JSON.parse(index).manifests[0].digest.slice(7)}`, mode: 0o644 }, await readFile(manifestPath));
  await addEntry(pack, { name: 'oci-layout', mode: 0o644 }, Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  await addEntry(pack, { name: 'index.json', mode: 0o644 }, Buffer.from(index));
  await addEntry(pack, { name: 'manifest.json', mode: 0o644 }, Buffer.from(JSON.stringify([entry])));
  pack.finalize();
  await done;
  await rename(`${path}.tmp`, path);
}
