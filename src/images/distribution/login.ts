// docker login (POST /auth): check credentials against the registry as moby's registry.Service.Auth
// does: each of the registry's endpoints in turn (HTTPS, then plain HTTP for an insecure one;
// never a mirror, which must not see the upstream's credentials), stopping at the first that
// accepts them or at a refusal of the credentials themselves.
import { InvalidParameterError, UnauthorizedError } from '../../errors.js';
import type { RegistryAuth } from '../types.js';
import { RegistryClient } from './registry-client.js';
import type { RegistryConfig } from './registry-config.js';

/** moby's IndexHostname: where a login without a server address goes. */
const INDEX_HOSTNAME = 'index.docker.io';

/** moby's AuthenticateOKBody: IdentityToken is always there, '' when the registry gave none. */
export interface LoginResult {
  IdentityToken: string;
  Status: 'Login Succeeded';
}

/** The registry host a login's serveraddress names (moby: https:// added when it has no scheme, then URL.Host). */
export function loginHost(serverAddress: string | undefined): string {
  if (!serverAddress) return INDEX_HOSTNAME;
  const withScheme = /^https?:\/\//.test(serverAddress) ? serverAddress : `https://${serverAddress}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new InvalidParameterError(`unable to parse server address: parse "${withScheme}": invalid URL`);
  }
  return u.host;
}

export async function login(config: RegistryConfig, auth: RegistryAuth, signal?: AbortSignal): Promise<LoginResult> {
  const host = loginHost(auth.serveraddress);
  const endpoints = await config.endpoints(host, { mirrors: false });
  let lastErr: unknown;
  for (const endpoint of endpoints) {
    try {
      const identityToken = await new RegistryClient(host, '', auth, signal, { endpoint }).login();
      return { IdentityToken: identityToken ?? '', Status: 'Login Succeeded' };
    } catch (err) {
      // Refused credentials stop here: a plain-HTTP try must not get them as well.
      if (signal?.aborted || err instanceof UnauthorizedError) throw err;
      lastErr = err;
    }
  }
  throw lastErr;
}
