import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeImageConfig, parseCreateRequest } from '../../src/engine/containers/create-request.js';
import { InvalidParameterError } from '../../src/errors.js';

describe('parseCreateRequest', () => {
  it('accepts the CLI body and treats zero values as unset', () => {
    const r = parseCreateRequest({
      Image: 'busybox',
      Cmd: ['echo', 'hi'],
      Entrypoint: null,
      Env: ['A=b'],
      Labels: { x: 'y' },
      HostConfig: { NetworkMode: 'default', AutoRemove: true, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, ConsoleSize: [24, 80], LogConfig: { Type: '', Config: {} } },
    });
    assert.deepEqual(r.config.Cmd, ['echo', 'hi']);
    assert.equal(r.config.Entrypoint, null);
    assert.equal(r.hostConfig.AutoRemove, true);
    assert.deepEqual(r.hostConfig.ConsoleSize, [24, 80]);
  });

  it('takes a string Cmd as one element, not shell-split', () => {
    assert.deepEqual(parseCreateRequest({ Image: 'x', Cmd: 'echo hi' }).config.Cmd, ['echo hi']);
  });

  it('rejects fields of the wrong type with a Go-like message', () => {
    assert.throws(() => parseCreateRequest({ Image: 'x', Cmd: 5 }), (e: unknown) => e instanceof InvalidParameterError && /cannot unmarshal number into Go struct field Config.Cmd/.test(e.message));
    assert.throws(() => parseCreateRequest({ Image: 'x', Tty: 'yes' }), InvalidParameterError);
    assert.throws(() => parseCreateRequest({ Image: 'x', HostConfig: { Binds: 'nope' } }), InvalidParameterError);
    assert.throws(() => parseCreateRequest([1, 2]), InvalidParameterError);
  });

  it('rejects unknown restart policies and AutoRemove with a restart policy', () => {
    assert.throws(() => parseCreateRequest({ Image: 'x', HostConfig: { RestartPolicy: { Name: 'sometimes' } } }), /invalid restart policy: unknown policy 'sometimes'/);
    assert.throws(() => parseCreateRequest({ Image: 'x', HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always' } } }), /can't create 'AutoRemove' container with restart policy/);
  });

  it("answers bad settings in moby 28's words", () => {
    const fails = (body: Record<string, unknown>, message: string) =>
      assert.throws(() => parseCreateRequest({ Image: 'x', ...body }), (e: unknown) => e instanceof InvalidParameterError && e.message === message);
    // the logger registry's own text, not wrapped (berth said "failed to create logger: ...")
    fails({ HostConfig: { LogConfig: { Type: 'asdf', Config: {} } } }, "logger: no log driver named 'asdf' is registered");
    fails({ HostConfig: { LogConfig: { Type: 'local', Config: { tag: 'x' } } } }, "unknown log opt 'tag' for log driver local");
    // api/types/container ValidateRestartPolicy, after create turned an empty name into `no`
    fails({ HostConfig: { RestartPolicy: { Name: '', MaximumRetryCount: 3 } } }, "invalid restart policy: maximum retry count can only be used with 'on-failure'");
    fails({ HostConfig: { RestartPolicy: { Name: 'always', MaximumRetryCount: -1 } } }, "invalid restart policy: maximum retry count can only be used with 'on-failure' and cannot be negative");
    fails({ HostConfig: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: -1 } } }, 'invalid restart policy: maximum retry count cannot be negative');
    fails({ HostConfig: { RestartPolicy: { Name: 'sometimes' } } }, "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
    // daemon/container.go validateContainerConfig
    fails({ WorkingDir: 'rel/dir' }, "the working directory 'rel/dir' is invalid, it needs to be an absolute path");
    fails({ Healthcheck: { Test: ['CMD', 'true'], Interval: 1000 } }, 'Interval in Healthcheck cannot be less than 1ms');
    fails({ Healthcheck: { Test: ['CMD', 'true'], Timeout: 999_999 } }, 'Timeout in Healthcheck cannot be less than 1ms');
    fails({ Healthcheck: { Test: ['CMD', 'true'], Retries: -1 } }, 'Retries in Healthcheck cannot be negative');
    fails({ Healthcheck: { Test: ['CMD', 'true'], StartPeriod: 5 } }, 'StartPeriod in Healthcheck cannot be less than 1ms');
    fails({ Healthcheck: { Test: ['CMD', 'true'], StartInterval: 5 } }, 'StartInterval in Healthcheck cannot be less than 1ms');
    fails({ Env: ['=x'] }, 'invalid environment variable: =x');
  });

  it('keeps the working directory as filepath.Clean makes it, and valid healthchecks', () => {
    assert.equal(parseCreateRequest({ Image: 'x', WorkingDir: '/a//b/../c/' }).config.WorkingDir, '/a/c');
    assert.equal(parseCreateRequest({ Image: 'x', WorkingDir: '/' }).config.WorkingDir, '/');
    const h = { Test: ['CMD', 'true'], Interval: 1_000_000, Timeout: 0, Retries: 0, StartPeriod: 2e9 };
    assert.deepEqual(parseCreateRequest({ Image: 'x', Healthcheck: h }).config.Healthcheck, h);
  });
});

describe('mergeImageConfig', () => {
  const image = { Cmd: ['sh'], Env: ['PATH=/bin', 'A=image'], WorkingDir: '/w', Labels: { a: '1' }, Entrypoint: null };

  it('fills what the user left out, user values win', () => {
    const user = parseCreateRequest({ Image: 'x', Env: ['A=user'], Labels: { b: '2' } }).config;
    const m = mergeImageConfig(user, image);
    assert.deepEqual(m.Cmd, ['sh']);
    assert.deepEqual(m.Env, ['A=user', 'PATH=/bin']);
    assert.equal(m.WorkingDir, '/w');
    assert.deepEqual(m.Labels, { a: '1', b: '2' });
  });

  it('does not inherit the image Cmd when the user sets an entrypoint', () => {
    const m = mergeImageConfig(parseCreateRequest({ Image: 'x', Entrypoint: ['echo'] }).config, image);
    assert.deepEqual(m.Entrypoint, ['echo']);
    assert.equal(m.Cmd, null);
  });

  it('fails without any command', () => {
    assert.throws(() => mergeImageConfig(parseCreateRequest({ Image: 'x' }).config, {}), /no command specified/);
  });
});
