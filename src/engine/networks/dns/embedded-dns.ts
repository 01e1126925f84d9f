// Docker's embedded DNS address (127.0.0.11) inside a container on a user-defined network.
// Placeholder, filled in by the DNS work.

export const EMBEDDED_DNS = '127.0.0.11';

export interface DnsTarget {
  /** Where aardvark-dns listens for this network (its gateway). */
  server: string;
  /** The container's own address on that network (the source aardvark-dns sees). */
  containerIp: string;
}

/** Makes 127.0.0.11:53 (udp and tcp) inside the netns at `netnsPath` reach `target`. */
export async function enableEmbeddedDns(_netnsPath: string, _target: DnsTarget): Promise<void> {}
