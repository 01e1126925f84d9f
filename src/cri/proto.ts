// The CRI v1 schema, loaded from our own proto with the options every CRI module relies on:
// camelCase fields, int64 as decimal strings (nanosecond timestamps overflow a JS number), enums
// as their names, and no defaults filled in, so that presence stays visible (seccomp {} is
// RuntimeDefault while an absent seccomp is unconfined; an absent Int64Value is no uid).
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

// The .proto stays in src/ (tsc copies no assets): from dist/src/cri/ that is three levels up.
export const CRI_PROTO_PATH = fileURLToPath(new URL('../../../src/cri/api/runtime-v1.proto', import.meta.url));

export const CRI_LOADER_OPTIONS: protoLoader.Options = { keepCase: false, longs: String, enums: String, defaults: false, oneofs: true };

export interface CriServices {
  RuntimeService: grpc.ServiceClientConstructor;
  ImageService: grpc.ServiceClientConstructor;
}

let loaded: CriServices | undefined;

export function loadCriServices(): CriServices {
  if (loaded) return loaded;
  const def = protoLoader.loadSync(CRI_PROTO_PATH, CRI_LOADER_OPTIONS);
  const pkg = grpc.loadPackageDefinition(def) as unknown as { runtime: { v1: CriServices } };
  loaded = pkg.runtime.v1;
  return loaded;
}
