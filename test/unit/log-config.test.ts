// Log driver options as Docker checks them, the rotation they ask for, the file shift berth does
// on rotation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logRotation, parseLogSize, validateLogConfig } from '../../src/engine/log-config.js';
import { shiftLogFiles } from '../../src/engine/log-rotation.js';

test('sizes use decimal multiples like docker/go-units FromHumanSize', () => {
  assert.equal(parseLogSize('512'), 512);
  assert.equal(parseLogSize('10k'), 10_000);
  assert.equal(parseLogSize('10m'), 10_000_000);
  assert.equal(parseLogSize('1.5g'), 1_500_000_000);
  assert.equal(parseLogSize('2MB'), 2_000_000);
  assert.throws(() => parseLogSize('big'), /invalid size/);
});

test('drivers and their options', () => {
  assert.equal(validateLogConfig({ Type: '', Config: {} }), 'json-file');
  assert.equal(validateLogConfig({ Type: 'k8s-file', Config: {} }), 'json-file');
  assert.equal(validateLogConfig({ Type: 'none', Config: {} }), 'none');
  assert.equal(validateLogConfig({ Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '3', labels: 'a', tag: 't' } }), 'json-file');
  assert.throws(() => validateLogConfig({ Type: 'gelf', Config: {} }), /no log driver named 'gelf'/);
  assert.throws(() => validateLogConfig({ Type: 'none', Config: { 'max-size': '1m' } }), /unknown log opt 'max-size' for none log driver/);
  assert.throws(() => validateLogConfig({ Type: 'local', Config: { labels: 'a' } }), /unknown log opt 'labels' for local log driver/);
  assert.throws(() => validateLogConfig({ Type: 'json-file', Config: { compress: 'yes' } }), /ParseBool/);
  assert.throws(() => validateLogConfig({ Type: 'json-file', Config: { compress: 'true', 'max-size': '1m' } }), /compress cannot be true/);
  assert.equal(validateLogConfig({ Type: 'json-file', Config: { compress: 'true', 'max-size': '1m', 'max-file': '2' } }), 'json-file');
});

test('rotation: none by default, local has Docker defaults', () => {
  assert.equal(logRotation({ Type: 'json-file', Config: {} }), undefined);
  assert.deepEqual(logRotation({ Type: 'json-file', Config: { 'max-size': '10k' } }), { maxSize: 10_000, maxFile: 1 });
  assert.deepEqual(logRotation({ Type: 'json-file', Config: { 'max-file': '3' } }), undefined);
  assert.deepEqual(logRotation({ Type: 'local', Config: {} }), { maxSize: 20 * 1024 * 1024, maxFile: 5 });
  assert.equal(logRotation({ Type: 'none', Config: {} }), undefined);
});

test('shiftLogFiles keeps max-file - 1 old files, newest as .1', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-rot-'));
  try {
    const log = join(dir, 'container.log');
    for (const gen of ['a', 'b', 'c', 'd']) {
      await writeFile(log, gen);
      await shiftLogFiles(log, 3);
    }
    assert.deepEqual((await readdir(dir)).sort(), ['container.log.1', 'container.log.2']);
    assert.equal(await readFile(`${log}.1`, 'utf8'), 'd');
    assert.equal(await readFile(`${log}.2`, 'utf8'), 'c');
    await writeFile(log, 'e');
    await shiftLogFiles(log, 1);
    assert.deepEqual((await readdir(dir)).sort(), ['container.log.1', 'container.log.2']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
