// Log driver options as Docker checks them, the rotation they ask for, the file shift berth does
// on rotation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logRotation, parseLogSize, parseRamSize, validateLogConfig } from '../../src/engine/logs/config.js';
import { InvalidParameterError } from '../../src/errors.js';
import { shiftLogFiles } from '../../src/engine/logs/rotation.js';

test('sizes use decimal multiples like docker/go-units FromHumanSize', () => {
  assert.equal(parseLogSize('512'), 512);
  assert.equal(parseLogSize('10k'), 10_000);
  assert.equal(parseLogSize('10m'), 10_000_000);
  assert.equal(parseLogSize('1.5g'), 1_500_000_000);
  assert.equal(parseLogSize('2MB'), 2_000_000);
  assert.throws(() => parseLogSize('big'), /invalid size/);
});

test('max-buffer-size uses binary multiples like docker/go-units RAMInBytes', () => {
  assert.equal(parseRamSize('64k'), 65_536);
  assert.equal(parseRamSize('4m'), 4 * 1024 * 1024);
  assert.equal(parseRamSize('1.5KiB'), 1536);
  assert.throws(() => parseRamSize('lots'), /^InvalidParameterError: invalid size: 'lots'$|invalid size: 'lots'/);
});

test('drivers and their options', () => {
  assert.equal(validateLogConfig({ Type: '', Config: {} }), 'json-file');
  assert.equal(validateLogConfig({ Type: 'k8s-file', Config: {} }), 'json-file');
  assert.equal(validateLogConfig({ Type: 'none', Config: {} }), 'none');
  assert.equal(validateLogConfig({ Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '3', labels: 'a', tag: 't' } }), 'json-file');
  // moby 28's exact words (daemon/logger/factory.go ValidateLogOpts, the drivers' ValidateLogOpt)
  const fails = (lc: { Type: string; Config: Record<string, string> }, message: string) =>
    assert.throws(() => validateLogConfig(lc), (err: Error) => err instanceof InvalidParameterError && err.message === message);
  fails({ Type: 'gelf', Config: {} }, "logger: no log driver named 'gelf' is registered");
  fails({ Type: 'asdf', Config: { 'max-size': '1m' } }, "logger: no log driver named 'asdf' is registered");
  fails({ Type: 'local', Config: { labels: 'a' } }, "unknown log opt 'labels' for log driver local");
  fails({ Type: 'json-file', Config: { 'max-sise': '1m' } }, "unknown log opt 'max-sise' for json-file log driver");
  fails({ Type: 'json-file', Config: { mode: 'sometimes' } }, 'logger: logging mode not supported: sometimes');
  fails({ Type: 'asdf', Config: { mode: 'sometimes' } }, 'logger: logging mode not supported: sometimes');
  fails({ Type: 'json-file', Config: { 'max-buffer-size': '4m' } }, "logger: max-buffer-size option is only supported with 'mode=non-blocking'");
  fails({ Type: 'local', Config: { mode: 'non-blocking', 'max-buffer-size': 'lots' } }, "error parsing option max-buffer-size: invalid size: 'lots'");
  fails({ Type: 'json-file', Config: { 'cache-disabled': 'maybe' } }, 'invalid value for option cache-disabled: maybe');
  fails({ Type: 'json-file', Config: { compress: 'yes', 'max-size': '1m', 'max-file': '2' } }, 'strconv.ParseBool: parsing "yes": invalid syntax');
  // `none` takes any option; the built-in ones go with every driver
  assert.equal(validateLogConfig({ Type: 'none', Config: { 'max-size': '1m', whatever: 'x' } }), 'none');
  assert.equal(validateLogConfig({ Type: 'json-file', Config: { mode: 'non-blocking', 'max-buffer-size': '4m', 'cache-disabled': 'true' } }), 'json-file');
  assert.equal(validateLogConfig({ Type: 'local', Config: { mode: 'blocking', 'cache-max-size': '1m', 'cache-max-file': '2', 'cache-compress': 'false' } }), 'local');
  assert.equal(validateLogConfig({ Type: 'json-file', Config: { compress: 'T', 'max-size': '1m', 'max-file': '2' } }), 'json-file');
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
