// `-H tcp://ADDR:PORT`: the API without TLS over TCP, only when asked, with dockerd's warnings.
// berth has no TLS, so every TCP host is dockerd's unauthenticated case: the same API as the
// socket, for anyone who can reach the port (root on this host for them).
import { isIP } from 'node:net';

export interface TcpHost {
  host: string;
  port: number;
}

/** `tcp://host:port` (dockerd's default port 2375 when none), or undefined for another scheme. */
export function parseTcpHost(h: string): TcpHost | undefined {
  if (!h.startsWith('tcp://')) return undefined;
  const rest = h.slice('tcp://'.length).replace(/\/+$/, '');
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:/\[\]]*))(?::(\d+))?$/.exec(rest);
  if (!m) return undefined;
  const port = m[3] === undefined ? 2375 : Number(m[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** dockerd's warnings for a TCP listener without --tlsverify (daemon/command/daemon.go loadListeners). */
export function tcpWarnings(h: TcpHost): { lines: string[]; loopback: boolean } {
  const loopback = h.host === 'localhost' || (isIP(h.host) === 4 ? h.host.startsWith('127.') : h.host === '::1');
  const lines = [
    'Binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network.',
    'Binding to an IP address, even on localhost, can also give access to scripts run in a browser. Be safe out there!',
    '[DEPRECATION NOTICE] In future versions this will be a hard failure preventing the daemon from starting! Learn more at: https://docs.docker.com/go/api-security/',
  ];
  if (!loopback) {
    lines.push(
      'Binding to an IP address without --tlsverify is deprecated. Startup is intentionally being slowed down to show this message',
      'Please consider generating tls certificates with client validation to prevent exposing unauthenticated root access to your network',
    );
  }
  return { lines, loopback };
}

/** /info's warning for each TCP host (moby's fillAPIInfo, TLS off). */
export function tcpInfoWarnings(hosts: string[]): string[] {
  return hosts
    .filter((h) => h.startsWith('tcp://'))
    .map(
      (h) =>
        `[DEPRECATION NOTICE]: API is accessible on http://${h.slice('tcp://'.length)} without encryption.\n         Access to the remote API is equivalent to root access on the host. Refer\n         to the 'Docker daemon attack surface' section in the documentation for\n         more information: https://docs.docker.com/go/attack-surface/\nIn future versions this will be a hard failure preventing the daemon from starting! Learn more at: https://docs.docker.com/go/api-security/`,
    );
}
