// fast-check generators of API requests from openapi.yaml's operations. A request is a plain,
// printable value (FuzzRequest): path parameters, query and bodies hold `@@token@@` names of the
// objects the harness made (targets.ts swaps them in when sending), and big payloads are
// described (BodySpec) and only built when sent, so 10,000 generated requests stay small.
import fc from 'fast-check';
import type { Operation, Param, Schema } from './openapi-ops.js';

export type BodySpec =
  | { json: unknown }
  | { text: string }
  | { fixture: TarFixture }
  | { huge: 'string' | 'array' | 'nest-array' | 'nest-object'; size: number };

export type TarFixture = 'tar-file' | 'tar-dockerfile' | 'tar-dotdot' | 'tar-truncated' | 'gzip-garbage' | 'random-bytes' | 'empty';

export interface FuzzRequest {
  op: string;
  method: string;
  /** Path and query, tokens unresolved. */
  path: string;
  headers?: Record<string, string>;
  body?: BodySpec;
  /** Content-Type to send; null sends none (a body's default is application/json or x-tar). */
  contentType?: string | null;
}

const LONG = 'a'.repeat(5000);

function safeEncode(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80'; // a lone surrogate, as its UTF-8-ish bytes
  }
}

/** Strings of every awkward kind: empty, dots, NULs, control bytes, unicode, long, lone surrogates. */
const awkwardString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '', ' ', '.', '..', '../../etc/passwd', '/', '//', '\u0000', 'a\u0000b', '\n', '\r\n', '\t', '💥', 'ä', '\u202e', '*', '[', '\\',
      '{"a":1}', '-1', '0', 'true', 'null', '%00', '%', 'sha256:', 'sha256:zz', 'busybox', 'busybox:latest', 'fz-running', 'fz-created',
      'fz-vol', 'fz-net', 'a:b:c', 'UPPER', 'x'.repeat(300), LONG,
    ),
  },
);

const awkwardInt: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, -1, 1, 2, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 32, 2 ** 53 - 1, -(2 ** 53), 9223372036854775807, 1e300),
  fc.integer(),
);

const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  awkwardString,
  awkwardInt,
  fc.boolean(),
  fc.double(),
  fc.constant([]),
  fc.constant({}),
  fc.array(awkwardString, { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), awkwardString, { maxKeys: 3 }),
);

const CONTAINER_REFS = ['fz-running', 'fz-created', '/fz-running', '@@running.id@@', '@@running.short@@', '@@created.id@@'];
const CMDS = [['true'], ['false'], ['sh', '-c', 'exit 3'], ['sleep', '1'], ['echo', 'hi'], ['cat'], ['/nonexistent'], [], ['']];

/** Values for well-known keys, so valid-shaped bodies reach the code behind validation. */
function hintFor(key: string): fc.Arbitrary<unknown> | undefined {
  switch (key) {
    case 'Image':
      return fc.oneof(fc.constantFrom('busybox', 'busybox:latest', 'fz-img:1', '@@image.id@@', 'nosuch:latest', ''), awkwardString);
    case 'Container':
      return fc.oneof(fc.constantFrom(...CONTAINER_REFS), awkwardString);
    case 'Cmd':
    case 'Entrypoint':
      return fc.oneof(fc.constantFrom(...CMDS), fc.array(awkwardString, { maxLength: 3 }), awkwardString);
    // Never a host path: a bind of a generated path would make the daemon create it on the host.
    case 'Binds':
      return fc.array(fc.constantFrom('fz-vol:/data', 'fz-vol2:/x:ro', 'fzv-new:/y:rw', 'fz-vol:/data:zz', 'fz-vol', ':/x', 'fz-vol:relative'), { maxLength: 2 });
    case 'NetworkMode':
      return fc.oneof(fc.constantFrom('bridge', 'host', 'none', 'default', 'fz-net', 'container:fz-running', 'container:nosuch', 'nosuch'), awkwardString);
    // Only the daemon's own pool or invalid text: a wide subnet on a real bridge would take host routes.
    case 'Subnet':
      return fc.constantFrom('@@subnet@@', '10.0.0.0/33', '300.1.1.1/24', 'x', '', '::1/129', 'fd00::/200');
    case 'Gateway':
    case 'IPRange':
      return fc.constantFrom('@@gateway@@', '1.2.3.4', 'x', '', '::');
    case 'Driver':
      return fc.oneof(fc.constantFrom('bridge', 'local', 'null', 'host', 'macvlan', 'overlay', 'nosuch'), awkwardString);
    case 'DriverOpts':
      return fc.oneof(
        fc.constantFrom({}, { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' }, { type: 'tmpfs', device: 'tmpfs', o: 'size=-1,nosuch' }, { o: 'bind' }, { type: 'nosuch' }),
        fc.dictionary(awkwardString, awkwardString, { maxKeys: 3 }),
      );
    case 'Name':
      return fc.oneof(fc.constantFrom('fz-new', 'fz-n2', 'fz-net', 'fz-vol', 'bridge', 'host', 'none', ''), awkwardString);
    case 'User':
      return fc.oneof(fc.constantFrom('root', '0', '0:0', '65534', 'nobody', 'nosuch', 'root:nosuch', '-1'), awkwardString);
    case 'StopSignal':
      return fc.oneof(fc.constantFrom('SIGKILL', 'SIGTERM', '9', '0', '999', 'SIGNOPE'), awkwardString);
    case 'PortBindings':
      return fc.constantFrom({}, { '80/tcp': [{ HostPort: '' }] }, { '80/tcp': [{ HostPort: '99999' }] }, { 'x/tcp': null }, { '80/sctp': [{ HostIp: 'x' }] });
    case 'Devices':
      return fc.constantFrom([], [{ PathOnHost: '/dev/null', PathInContainer: '/dev/fz', CgroupPermissions: 'rwm' }], [{ PathOnHost: '/nonexistent' }]);
    default:
      return undefined;
  }
}

/** A value of `schema`'s shape with boundary values (depth-bounded). */
export function valueOf(schema: Schema | undefined, key = '', depth = 0): fc.Arbitrary<unknown> {
  const hint = hintFor(key);
  if (hint) return hint;
  if (!schema || depth > 5) return fc.oneof(awkwardString, awkwardInt, fc.boolean());
  if (schema.oneOf) return fc.oneof(...schema.oneOf.map((s) => valueOf(s, key, depth + 1)));
  if (schema.enum) return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...schema.enum) }, { weight: 1, arbitrary: awkwardString });
  const nullable = (a: fc.Arbitrary<unknown>) => (schema.nullable ? fc.oneof({ weight: 5, arbitrary: a }, { weight: 1, arbitrary: fc.constant(null) }) : a);
  switch (schema.type) {
    case 'boolean':
      return nullable(fc.boolean());
    case 'integer':
    case 'number':
      return nullable(awkwardInt);
    case 'string':
      return nullable(awkwardString);
    case 'array':
      return nullable(fc.array(valueOf(schema.items, '', depth + 1), { maxLength: 4 }));
    case 'object':
    default: {
      const props = schema.properties ?? {};
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, s] of Object.entries(props)) model[k] = valueOf(s, k, depth + 1);
      const known = fc.record(model, { requiredKeys: (schema.required ?? []).filter((k) => k in props) });
      if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
        const extra = fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('', '..', 'a.b')), valueOf(schema.additionalProperties, '', depth + 1), { maxKeys: 3 });
        return nullable(fc.tuple(known, extra).map(([a, b]) => ({ ...b, ...a })));
      }
      if (Object.keys(props).length === 0) return nullable(fc.dictionary(fc.string({ maxLength: 8 }), wrongValue, { maxKeys: 3 }));
      return nullable(known);
    }
  }
}

/** Every path to a value inside v (objects and arrays), for replacing one with a wrong type. */
function slots(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (v !== null && typeof v === 'object') {
    for (const [k, c] of Object.entries(v)) {
      const p = [...prefix, Array.isArray(v) ? Number(k) : k];
      out.push(p);
      slots(c, p, out);
    }
  }
  return out;
}

function withWrongType(v: unknown, pick: number, wrong: unknown): unknown {
  const all = slots(v);
  if (all.length === 0) return wrong;
  const path = all[pick % all.length];
  const copy = structuredClone(v) as any;
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k];
  o[path[path.length - 1]] = wrong;
  return copy;
}

function jsonBody(schema: Schema): fc.Arbitrary<{ body?: BodySpec; contentType?: string | null }> {
  const valid = valueOf(schema);
  return fc.oneof(
    { weight: 6, arbitrary: valid.map((json) => ({ body: { json } })) },
    { weight: 3, arbitrary: fc.tuple(valid, fc.nat(), wrongValue).map(([v, n, w]) => ({ body: { json: withWrongType(v, n, w) } })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(valid, fc.dictionary(fc.string({ maxLength: 10 }), wrongValue, { minKeys: 1, maxKeys: 3 }))
        .map(([v, extra]) => ({ body: { json: v !== null && typeof v === 'object' && !Array.isArray(v) ? { ...extra, ...v } : extra } })),
    },
    { weight: 1, arbitrary: fc.record({ huge: fc.constantFrom('string', 'array', 'nest-array', 'nest-object' as const), size: fc.constantFrom(1000, 100_000, 2_000_000) }).map((h) => ({ body: h as BodySpec })) },
    {
      weight: 1,
      arbitrary: fc.tuple(valid, fc.nat()).map(([v, cut]) => {
        const text = JSON.stringify(v) ?? '';
        return { body: { text: text.slice(0, cut % (text.length + 1)) } };
      }),
    },
    { weight: 1, arbitrary: fc.constantFrom('{', '}', '[', 'nul', '{"a":}', '{"Image":"busybox",}', '\u0000', '{"a":1}{"b":2}', '  ', '\ufeff{}', '{"a":"\\ud800"}', '1e999999').map((text) => ({ body: { text } })) },
    { weight: 1, arbitrary: fc.tuple(valid, fc.constantFrom('text/plain', 'application/x-tar', 'application/json; charset=latin1', 'multipart/form-data', '', null)).map(([json, ct]) => ({ body: { json }, contentType: ct })) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((json) => ({ body: { json } })) },
    { weight: 1, arbitrary: fc.constant({}) },
  );
}

const tarBody: fc.Arbitrary<{ body?: BodySpec; contentType?: string | null }> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<TarFixture>('tar-file', 'tar-dockerfile', 'tar-dotdot', 'tar-truncated', 'gzip-garbage', 'random-bytes', 'empty').map((fixture) => ({ body: { fixture } })) },
  { weight: 1, arbitrary: fc.constantFrom('application/json', 'text/plain', null).map((ct) => ({ body: { fixture: 'tar-file' as TarFixture }, contentType: ct })) },
  { weight: 1, arbitrary: fc.constant({}) },
);

/** A value for a path parameter: a target the harness made, or something hostile. */
function pathValue(opPath: string, param: string): fc.Arbitrary<string> {
  let valid: string[];
  if (opPath.startsWith('/containers/')) valid = CONTAINER_REFS;
  else if (opPath.startsWith('/exec/')) valid = ['@@exec@@', '@@exec@@', '@@running.id@@'];
  else if (opPath.startsWith('/networks/')) valid = ['fz-net', '@@net.id@@', '@@net.short@@', 'bridge', 'host', 'none'];
  else if (opPath.startsWith('/volumes/')) valid = ['fz-vol', 'fz-vol'];
  else if (opPath.startsWith('/images/')) valid = ['busybox', 'busybox:latest', 'fz-img:1', '@@image.id@@', '@@image.hex@@', 'docker.io/library/busybox:latest', '127.0.0.1:1/nosuch:x'];
  else valid = [param];
  const hostile = fc.oneof(
    fc.constantFrom('nosuch', '..', '.', '%2e%2e', '%2E%2E%2F%2E%2E%2Fetc', '%00', 'a%00b', '%ZZ', '%', LONG, '%F0%9F%92%A5', '%C3%A4', '%20', '*', '0', 'sha256%3A', '-', '%0A', '%2F', 'a%2Fb', 'fz-running%00'),
    fc.string({ maxLength: 30 }).map(safeEncode),
    fc.string({ unit: 'binary', maxLength: 10 }).map(safeEncode),
  );
  return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...valid) }, { weight: 2, arbitrary: hostile });
}

function queryValue(p: Param): fc.Arbitrary<string> {
  const s = p.schema;
  let typed: fc.Arbitrary<string>;
  if (p.name === 'filters') {
    typed = fc.oneof(
      fc.constantFrom(
        '{}', '{"label":["a=b"]}', '{"status":{"running":true}}', '{"name":["^fz"]}', '{"name":["(a+)+$"]}', '{"dangling":["true"]}', '{"dangling":["maybe"]}',
        '{"id":["@@running.short@@"]}', '{"until":["10m"]}', '{"until":["x"]}', '{"before":["busybox"]}', '{"reference":["busy*"]}', '{"reference":["["]}',
        '{"nosuch":["x"]}', '{"label":"x"}', '{"label":[1]}', '[]', 'null', '{', '"x"', '{"a":' + '['.repeat(2000),
      ),
      fc.dictionary(fc.constantFrom('label', 'name', 'id', 'status', 'until', 'dangling', 'before', 'since', 'type', 'event', 'container', 'driver', 'scope'), fc.array(awkwardString, { maxLength: 2 }), { maxKeys: 2 }).map((o) => JSON.stringify(o)),
    );
  } else if (s.type === 'boolean') typed = fc.constantFrom('1', '0', 'true', 'false', 'True', 'yes', '', '2', '-1');
  else if (s.type === 'integer') typed = fc.oneof(awkwardInt.map(String), fc.constantFrom('', 'abc', '1.5', '1e3', ' 1', '0x10', '9223372036854775808', '-9223372036854775809', 'NaN', 'Infinity'));
  else if (s.type === 'array') typed = fc.constantFrom('busybox', 'container', 'image', 'volume', 'build-cache', 'nosuch', 'CMD ["x"]', 'ENV A=b', 'NOPE x');
  else if (s.enum) typed = fc.constantFrom(...s.enum.map(String), 'nosuch', '');
  else if (p.name === 'path') typed = fc.constantFrom('/', '/etc', '/etc/passwd', '/bin/sh', '/proc/self/environ', '/data', '/../../..', '/nonexistent', '.', '', 'etc/hosts', '/dev/zero', '/sys/kernel');
  else if (p.name === 'signal') typed = fc.constantFrom('SIGKILL', 'SIGTERM', 'KILL', '9', '0', '-1', '65', 'SIGRTMAX', 'SIGRTMAX+1', 'nope');
  else if (p.name === 'tail') typed = fc.constantFrom('all', '0', '1', '10', '-1', 'x', '1e9');
  else if (p.name === 'since' || p.name === 'until') typed = fc.constantFrom('0', '1', '1.5', '-1', '99999999999', '2020-01-01T00:00:00Z', '10m', 'x', '1.x', '1.9999999999');
  else if (p.name === 'fromImage') typed = fc.constantFrom('busybox', 'busybox:latest', '127.0.0.1:1/nope', 'UPPER', 'a@sha256:zz', '');
  else if (p.name === 'ps_args') typed = fc.constantFrom('-ef', 'aux', '-o pid', '--nosuch', '-e -o', '`id`', '; id');
  else typed = awkwardString;
  return fc.oneof({ weight: 5, arbitrary: typed.map(safeEncode) }, { weight: 1, arbitrary: fc.constantFrom('%00', '%', '%ZZ', 'a'.repeat(100_000)) });
}

function queryOf(op: Operation): fc.Arbitrary<string> {
  const params = op.params.filter((p) => p.in === 'query');
  const parts = params.map((p) =>
    fc.oneof({ weight: p.required ? 4 : 1, arbitrary: queryValue(p).map((v) => [`${p.name}=${v}`]) }, { weight: 1, arbitrary: fc.constant([] as string[]) }, { weight: 1, arbitrary: fc.tuple(queryValue(p), queryValue(p)).map(([a, b]) => [`${p.name}=${a}`, `${p.name}=${b}`]) }),
  );
  const unknown = fc.oneof({ weight: 6, arbitrary: fc.constant([] as string[]) }, { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 8 }), awkwardString).map(([k, v]) => [`${safeEncode(k)}=${safeEncode(v)}`]) }, { weight: 1, arbitrary: fc.constant(['&&=&', '=x', 'a']) });
  return fc.tuple(fc.tuple(...parts), unknown).map(([ps, u]) => {
    const all = [...ps.flat(), ...u];
    return all.length ? `?${all.join('&')}` : '';
  });
}

const VERSION_PREFIXES = ['', '', '', '', '/v1.50', '/v1.44', '/v1.24', '/v1.23', '/v9.99', '/v1.', '/vx'];

export function requestFor(op: Operation): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.params.filter((p) => p.in === 'path');
  const pathArb = fc.tuple(...pathParams.map((p) => pathValue(op.path, p.name))).map((values) => {
    let path = op.path;
    pathParams.forEach((p, i) => (path = path.replace(`{${p.name}}`, values[i])));
    return path;
  });
  let bodyArb: fc.Arbitrary<{ body?: BodySpec; contentType?: string | null }> = fc.constant({});
  if (op.bodies.some((b) => b.contentType === 'application/json')) bodyArb = jsonBody(op.bodies.find((b) => b.contentType === 'application/json')!.schema);
  else if (op.bodies.length > 0) bodyArb = tarBody;
  const headerArb = fc.oneof(
    { weight: 8, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom<Record<string, string>>({ 'X-Registry-Auth': 'e30=' }, { 'X-Registry-Auth': '!!!' }, { 'X-Registry-Auth': 'eyJ1c2VybmFtZSI6MX0=' }, { 'X-Registry-Config': '{' }, { Connection: 'Upgrade', Upgrade: 'tcp' }) },
  );
  return fc.record({ prefix: fc.constantFrom(...VERSION_PREFIXES), path: pathArb, query: queryOf(op), b: bodyArb, headers: headerArb }).map(({ prefix, path, query, b, headers }) => {
    const req: FuzzRequest = { op: op.id, method: op.method, path: `${prefix}${path}${query}` };
    if (headers) req.headers = headers;
    if (b.body) req.body = b.body;
    if (b.contentType !== undefined) req.contentType = b.contentType;
    return req;
  });
}

/** Requests over every operation, each operation as likely as any other. */
export function requestArb(ops: Operation[]): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(...ops.map((op) => requestFor(op)));
}

/** `count` requests, the same for the same seed and openapi.yaml. */
export function sampleRequests(ops: Operation[], seed: number, count: number): FuzzRequest[] {
  return fc.sample(requestArb(ops), { seed, numRuns: count });
}
