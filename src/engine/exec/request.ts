// The bodies of POST /containers/{id}/exec (ExecOptions) and POST /exec/{id}/start
// (ExecStartOptions), decoded like Go's encoding/json: field names match case-insensitively,
// unknown fields are ignored, Cmd is a StrSlice (a string or an array of strings).
import { InvalidParameterError } from '../../errors.js';

export interface ExecCreateOptions {
  User: string;
  Privileged: boolean;
  Tty: boolean;
  ConsoleSize: [number, number] | null;
  AttachStdin: boolean;
  AttachStderr: boolean;
  AttachStdout: boolean;
  DetachKeys: string;
  Env: string[];
  WorkingDir: string;
  Cmd: string[];
}

export interface ExecStartOptions {
  Detach: boolean;
  Tty: boolean;
  ConsoleSize: [number, number] | null;
}

type Obj = Record<string, unknown>;

/** Field lookup the way Go's decoder does it: exact name first, then case-insensitive. */
function field(obj: Obj, name: string): unknown {
  if (name in obj) return obj[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}

function typeError(value: unknown, goType: string, name: string, structName: string): InvalidParameterError {
  const jsonType = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  return new InvalidParameterError(`json: cannot unmarshal ${jsonType} into Go struct field ${structName}.${name} of type ${goType}`);
}

function str(obj: Obj, name: string, structName: string): string {
  const v = field(obj, name);
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw typeError(v, 'string', name, structName);
  return v;
}

function bool(obj: Obj, name: string, structName: string): boolean {
  const v = field(obj, name);
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw typeError(v, 'bool', name, structName);
  return v;
}

function strings(obj: Obj, name: string, structName: string, allowString: boolean): string[] {
  const v = field(obj, name);
  if (v === undefined || v === null) return [];
  if (allowString && typeof v === 'string') return [v];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
    throw typeError(v, allowString ? 'strslice.StrSlice' : '[]string', name, structName);
  }
  return v as string[];
}

function consoleSize(obj: Obj, structName: string): [number, number] | null {
  const v = field(obj, 'ConsoleSize');
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || v.length !== 2 || v.some((n) => typeof n !== 'number' || !Number.isInteger(n) || n < 0)) {
    throw typeError(v, '[2]uint', 'ConsoleSize', structName);
  }
  return [v[0] as number, v[1] as number];
}

function object(body: unknown): Obj {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidParameterError(`json: cannot unmarshal ${Array.isArray(body) ? 'array' : typeof body} into Go value of type container.ExecOptions`);
  }
  return body as Obj;
}

export function parseExecCreate(body: unknown): ExecCreateOptions {
  const o = object(body);
  const s = 'ExecOptions';
  return {
    User: str(o, 'User', s),
    Privileged: bool(o, 'Privileged', s),
    Tty: bool(o, 'Tty', s),
    ConsoleSize: consoleSize(o, s),
    AttachStdin: bool(o, 'AttachStdin', s),
    AttachStderr: bool(o, 'AttachStderr', s),
    AttachStdout: bool(o, 'AttachStdout', s),
    DetachKeys: str(o, 'DetachKeys', s),
    Env: strings(o, 'Env', s, false),
    WorkingDir: str(o, 'WorkingDir', s),
    Cmd: strings(o, 'Cmd', s, true),
  };
}

export function parseExecStart(body: unknown): ExecStartOptions {
  const o = object(body);
  const s = 'ExecStartOptions';
  return { Detach: bool(o, 'Detach', s), Tty: bool(o, 'Tty', s), ConsoleSize: consoleSize(o, s) };
}
