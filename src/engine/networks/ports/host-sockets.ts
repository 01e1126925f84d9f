// Holding a host port: a socket bound to it, as dockerd does (and podman hands to conmon), so
// no host process can take the port while the container publishes it, and binding is also how
// we learn that a host process already has it. The DNAT rules catch the traffic before it
// reaches these sockets; one that arrives anyway (rules gone) is dropped.
import { createSocket } from 'node:dgram';
import { createServer, isIPv6 } from 'node:net';
import type { PortProtocol } from './types.js';

export interface HeldPort {
  close(): void;
}

/** Go's texts for the errnos a bind meets, as Docker's messages end with them. */
const ERRNO_TEXT: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'cannot assign requested address',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EAFNOSUPPORT: 'address family not supported by protocol',
  EINVAL: 'invalid argument',
};

export class BindError extends Error {
  constructor(readonly code: string) {
    super(ERRNO_TEXT[code] ?? code);
  }
}

const bindAddress = (hostIp: string) => (hostIp === '' ? '0.0.0.0' : hostIp);

/**
 * Binds `hostIp:port` for `protocol`. SCTP cannot be bound from Node: it is not held, and
 * only the other containers' mappings are checked for it.
 */
export function holdPort(hostIp: string, port: number, protocol: PortProtocol): Promise<HeldPort> {
  const address = bindAddress(hostIp);
  if (protocol === 'sctp') return Promise.resolve({ close() {} });
  if (protocol === 'udp') {
    return new Promise((resolve, reject) => {
      // No SO_REUSEADDR: with it, a host process that also set it could share the port unseen.
      const v6 = isIPv6(address);
      const s = createSocket({ type: v6 ? 'udp6' : 'udp4', ...(v6 ? { ipv6Only: true } : {}) });
      s.once('error', (err: NodeJS.ErrnoException) => {
        s.close();
        reject(new BindError(err.code ?? 'EINVAL'));
      });
      s.bind({ address, port, exclusive: true }, () => {
        s.removeAllListeners('error');
        s.on('error', () => undefined);
        s.unref();
        resolve({ close: () => s.close() });
      });
    });
  }
  return new Promise((resolve, reject) => {
    const server = createServer((conn) => conn.destroy());
    server.once('error', (err: NodeJS.ErrnoException) => {
      server.close();
      reject(new BindError(err.code ?? 'EINVAL'));
    });
    server.listen({ host: address, port, exclusive: true, backlog: 1, ipv6Only: isIPv6(address) }, () => {
      server.removeAllListeners('error');
      server.on('error', () => undefined);
      server.unref();
      resolve({ close: () => server.close() });
    });
  });
}
