// openapi.yaml must describe exactly the routes berth registers: no more, no less.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { parse } from 'yaml';
import type { Engine } from '../../src/engine/engine.js';
import { buildServer, listRoutes } from '../../src/api/server.js';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];

/** An engine that is never called: any property is another such object, any call fails loudly. */
function inertEngine(): Engine {
  const handler: ProxyHandler<() => void> = {
    get: (_target, prop) => (prop === 'then' ? undefined : new Proxy(() => undefined, handler)),
    apply: () => {
      throw new Error('the engine was called while registering routes');
    },
  };
  return new Proxy(() => undefined, handler) as unknown as Engine;
}

function repoRoot(): string {
  // Compiled to dist/test/unit; sources and openapi.yaml live at the repo root.
  return process.cwd();
}

interface Op {
  method: string;
  path: string;
}

function documented(): { ops: Op[]; doc: Record<string, unknown> } {
  const doc = parse(readFileSync(join(repoRoot(), 'openapi.yaml'), 'utf8')) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const ops: Op[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of Object.keys(item)) if (METHODS.includes(method)) ops.push({ method: method.toUpperCase(), path });
  }
  return { ops, doc };
}

/** Fastify's `:id` becomes OpenAPI's `{id}`; a trailing `*` matches any rest of the path (image names with `/`). */
function routePattern(url: string): { exact?: string; prefix?: string } {
  const path = url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
  if (path.endsWith('*')) return { prefix: path.slice(0, -1) };
  return { exact: path };
}

test('openapi.yaml and the registered routes agree', async () => {
  const app = await buildServer({ engine: inertEngine(), logger: pino({ level: 'silent' }) });
  // The catch-all OPTIONS route is plumbing, not API.
  const routes = listRoutes(app).filter((r) => !(r.method === 'OPTIONS' && r.url === '*'));
  await app.close();
  assert.ok(routes.length > 0, 'no routes registered');
  const { ops } = documented();

  const covers = (r: { method: string; url: string }, op: Op): boolean => {
    if (r.method !== op.method) return false;
    const p = routePattern(r.url);
    return p.exact !== undefined ? p.exact === op.path : op.path.startsWith(p.prefix!);
  };
  const exactlyRouted = (op: Op) => routes.some((r) => routePattern(r.url).exact !== undefined && covers(r, op));

  const undocumented = routes.filter((r) => !ops.some((op) => covers(r, op))).map((r) => `${r.method} ${r.url}`);
  // A documented operation is served by its exact route, or else by a wildcard route of the same method.
  const unrouted = ops.filter((op) => !exactlyRouted(op) && !routes.some((r) => covers(r, op))).map((op) => `${op.method} ${op.path}`);

  assert.deepEqual(undocumented, [], 'routes missing from openapi.yaml');
  assert.deepEqual(unrouted, [], 'openapi.yaml operations with no route');
});

test('every $ref in openapi.yaml resolves', () => {
  const { doc } = documented();
  const missing: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') {
        let target: unknown = doc;
        for (const part of value.replace(/^#\//, '').split('/')) target = (target as Record<string, unknown> | undefined)?.[part];
        if (target === undefined) missing.push(value);
      } else {
        walk(value);
      }
    }
  };
  walk(doc);
  assert.deepEqual(missing, []);
});

test('path parameters are named {id} or {name} and declared', () => {
  const { doc } = documented();
  const paths = (doc as { paths: Record<string, Record<string, { parameters?: Array<{ $ref?: string; in?: string; name?: string }> }>> }).paths;
  const components = (doc as { components: { parameters: Record<string, { name: string; in: string }> } }).components.parameters;
  for (const [path, item] of Object.entries(paths)) {
    const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    for (const name of names) assert.ok(name === 'id' || name === 'name', `${path}: {${name}}`);
    for (const [method, op] of Object.entries(item)) {
      const declared = (op.parameters ?? [])
        .map((p) => (p.$ref ? components[p.$ref.split('/').at(-1)!] : p))
        .filter((p) => p?.in === 'path')
        .map((p) => p!.name);
      assert.deepEqual(declared.sort(), [...names].sort(), `${method.toUpperCase()} ${path}`);
    }
  }
});
