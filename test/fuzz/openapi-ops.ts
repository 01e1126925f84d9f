// The operations the fuzzer aims at, read from openapi.yaml (the repo root): one entry per
// method and path with its parameters and request body, every $ref resolved, so generators
// follow the document the daemon is checked against rather than a list kept by hand.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export type Schema = {
  type?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  required?: string[];
  items?: Schema;
  oneOf?: Schema[];
  nullable?: boolean;
  pattern?: string;
  default?: unknown;
  $ref?: string;
};

export interface Param {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: Schema;
}

export interface Operation {
  id: string;
  method: string;
  /** e.g. /containers/{id}/json */
  path: string;
  params: Param[];
  /** Content types the request body may have, with their schema; empty when none is taken. */
  bodies: { contentType: string; schema: Schema }[];
  bodyRequired: boolean;
}

const HTTP_METHODS = ['get', 'head', 'post', 'put', 'delete'];

/** The repo root: this file compiles to dist/test/fuzz. */
export function repoRoot(): string {
  return fileURLToPath(new URL('../../../', import.meta.url));
}

export function loadOperations(file = join(repoRoot(), 'openapi.yaml')): Operation[] {
  const doc = parse(readFileSync(file, 'utf8')) as any;
  const resolve = (node: any, depth = 0): any => {
    if (depth > 12 || node === null || typeof node !== 'object') return node;
    if (typeof node.$ref === 'string') {
      const target = (node.$ref as string)
        .replace(/^#\//, '')
        .split('/')
        .reduce((o: any, k: string) => o?.[k], doc);
      return resolve(target, depth + 1);
    }
    if (Array.isArray(node)) return node.map((n) => resolve(n, depth + 1));
    const out: any = {};
    for (const [k, v] of Object.entries(node)) out[k] = resolve(v, depth + 1);
    return out;
  };
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, any>)) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!op) continue;
      const params: Param[] = ((resolve(op.parameters ?? []) as any[]) ?? []).map((p) => ({
        name: p.name,
        in: p.in,
        required: Boolean(p.required),
        schema: p.schema ?? { type: 'string' },
      }));
      const body = op.requestBody ? resolve(op.requestBody) : undefined;
      const bodies = body?.content
        ? Object.entries(body.content as Record<string, any>).map(([contentType, c]) => ({ contentType, schema: (c?.schema ?? {}) as Schema }))
        : [];
      ops.push({ id: op.operationId ?? `${method} ${path}`, method: method.toUpperCase(), path, params, bodies, bodyRequired: Boolean(body?.required) });
    }
  }
  return ops;
}
