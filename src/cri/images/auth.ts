// CRI's AuthConfig as the registry client's credentials, by containerd's rules (ParseAuth): the
// credentials are meant for server_address, so a pull from another registry gets none; username
// and password first, then the identity token, then `auth` (base64 of user:password); a
// registry_token is a bearer token sent as is.
import { InvalidParameterError } from '../../errors.js';
import type { RegistryAuth } from '../../images/types.js';

export interface CriAuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}

const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

export function registryAuth(auth: CriAuthConfig | undefined, domain: string): RegistryAuth | undefined {
  if (!auth) return undefined;
  if (auth.serverAddress && !sameRegistry(auth.serverAddress, domain)) return undefined;
  const out: RegistryAuth = {};
  if (auth.username) {
    out.username = auth.username;
    out.password = auth.password ?? '';
  } else if (auth.identityToken) {
    out.identitytoken = auth.identityToken;
  } else if (auth.auth) {
    const decoded = Buffer.from(auth.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i <= 0) throw new InvalidParameterError('invalid auth: the auth field must be base64 of "user:password"');
    out.username = decoded.slice(0, i);
    out.password = decoded.slice(i + 1);
  }
  if (auth.registryToken) out.registrytoken = auth.registryToken;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** server_address may be a host, host:port or a URL (kubelet passes what the secret says). */
function sameRegistry(serverAddress: string, domain: string): boolean {
  let host = serverAddress;
  if (/^[a-z]+:\/\//i.test(host)) {
    try {
      host = new URL(host).host;
    } catch {
      return false;
    }
  } else {
    host = host.split('/')[0];
  }
  host = host.toLowerCase();
  const d = domain.toLowerCase();
  if (DOCKER_HUB_HOSTS.has(host) && DOCKER_HUB_HOSTS.has(d)) return true;
  return host === d;
}
