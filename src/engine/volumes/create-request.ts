// POST /volumes/create's body (api/types/volume.CreateOptions), decoded with Go's messages.
import type { InvalidParameterError } from '../../errors.js';
import type { CreateVolumeRequest } from './service.js';
import { wrongFieldType, wrongValueType } from '../go-json.js';

function wrong(field: string, v: unknown, want: string): InvalidParameterError {
  return wrongFieldType(`CreateOptions.${field}`, v, want);
}

function str(b: Record<string, unknown>, key: string): string {
  const v = b[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw wrong(key, v, 'string');
  return v;
}

function strMap(b: Record<string, unknown>, key: string): Record<string, string> | null {
  const v = b[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw wrong(key, v, 'map[string]string');
  for (const x of Object.values(v)) if (typeof x !== 'string') throw wrong(key, x, 'string');
  return { ...(v as Record<string, string>) };
}

export function parseVolumeCreate(body: unknown): CreateVolumeRequest {
  if (body === undefined || body === null) return { name: '', driver: '', options: null, labels: null };
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw wrongValueType(body, 'volume.CreateOptions');
  }
  const b = body as Record<string, unknown>;
  return { name: str(b, 'Name'), driver: str(b, 'Driver'), options: strMap(b, 'DriverOpts'), labels: strMap(b, 'Labels') };
}
