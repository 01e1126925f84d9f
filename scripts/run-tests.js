#!/usr/bin/env node
// `npm test` after the build: prepare the busybox fixtures once, serve them from one Debian
// docker-registry on a free 127.0.0.1 port, then run the unit tests and the e2e tests (an
// explicit order, the leak check last) in one `node --test` run, one file at a time.
// Exits with the test runner's status. File arguments run only those files.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
// BERTH_DIST: a build in another --outDir (side-by-side builds of one checkout).
const dist = process.env.BERTH_DIST ? resolve(process.env.BERTH_DIST) : join(repo, 'dist');

// e2e files in the order they run; others' e2e files (images-*, runtime-*) follow, then
// test/faults; the leak check comes last so it sees what every earlier file left behind.
const E2E_ORDER = ['api-basics', 'quickstart', 'containers', 'images', 'bad-input', 'daemon'];
const E2E_LAST = 'zz-leak-check';

function testFiles() {
  const unitDir = join(dist, 'test', 'unit');
  const e2eDir = join(dist, 'test', 'e2e');
  const list = (dir) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort() : []);
  const unit = list(unitDir).map((f) => join(unitDir, f));
  const e2eAll = list(e2eDir);
  const ordered = [...E2E_ORDER, E2E_LAST].map((n) => `${n}.test.js`);
  const missing = ordered.filter((f) => !e2eAll.includes(f));
  if (missing.length > 0) throw new Error(`missing compiled e2e tests: ${missing.join(', ')} (did the build run?)`);
  const rest = e2eAll.filter((f) => !ordered.includes(f));
  const e2e = [...E2E_ORDER.map((n) => `${n}.test.js`), ...rest].map((f) => join(e2eDir, f));
  // the crash-anywhere harness (test/faults) runs before the leak check, which sees its roots too
  const faultsDir = join(dist, 'test', 'faults');
  const faults = list(faultsDir).map((f) => join(faultsDir, f));
  return [...unit, ...e2e, ...faults, join(e2eDir, `${E2E_LAST}.test.js`)];
}

// `node --test` sorts the files it is given by path, so the order is carried by numbered
// symlinks (Node runs the real file behind each: its imports resolve as usual).
async function orderedLinks(files, dir) {
  await mkdir(dir, { recursive: true });
  const links = [];
  for (const [i, file] of files.entries()) {
    const link = join(dir, `${String(i).padStart(3, '0')}-${basename(dirname(file))}-${basename(file)}`);
    await symlink(file, link);
    links.push(link);
  }
  return links;
}

async function main() {
  const { prepareFixtures } = await import(join(dist, 'test', 'e2e', 'harness.js'));
  const { startRegistry, pushImage } = await import(join(dist, 'test', 'fixtures', 'registry.js'));

  // `node scripts/run-tests.js dist/test/e2e/x.test.js ...` runs just those files (with the
  // fixtures and registry they expect); no arguments means the whole suite.
  const picked = process.argv.slice(2).map((f) => resolve(f));
  const files = picked.length > 0 ? picked : testFiles();
  const work = await mkdtemp(join(tmpdir(), 'berth-test-'));
  const rootsRecord = join(work, 'roots.list');
  await writeFile(rootsRecord, '');

  // one per run: runs side by side (a developer's and CI's) must not remove each other's logs
  const logDir = await mkdtemp(join(tmpdir(), 'berth-e2e-logs-'));

  const t0 = Date.now();
  const fx = await prepareFixtures(join(work, 'fixtures'));
  const registry = await startRegistry({ dir: join(work, 'registry') });
  let status = 1;
  try {
    await pushImage(registry.host, fx.ociDir, 'busybox:latest');
    console.log(`run-tests: fixtures ready, registry ${registry.host} serves busybox:latest (${Date.now() - t0} ms)`);
    const env = {
      ...process.env,
      BERTH_TEST_REGISTRY: registry.host,
      BERTH_TEST_ARCHIVE: fx.archive,
      BERTH_TEST_ROOTFS: fx.rootfs,
      BERTH_TEST_OCI_DIR: fx.ociDir,
      BERTH_TEST_IMAGE_ID: fx.imageId,
      BERTH_TEST_ROOTS_RECORD: rootsRecord,
      BERTH_TEST_LOG_DIR: logDir,
    };
    const links = await orderedLinks(files, join(work, 'order'));
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...links], { stdio: 'inherit', env });
    const forward = (sig) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    status = await new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
  } finally {
    await registry.stop();
    await rm(work, { recursive: true, force: true });
    if (status === 0) await rm(logDir, { recursive: true, force: true });
    else console.log(`run-tests: daemon logs of this run are in ${logDir}`);
  }
  process.exit(status);
}

main().catch((err) => {
  console.error(`run-tests: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
