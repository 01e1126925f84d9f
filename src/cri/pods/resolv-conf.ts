// A pod's /etc/resolv.conf: from its DNSConfig when it has one, else the host's file as it is
// (containerd's parseDNSOptions / copy of /etc/resolv.conf; kubelet has already merged the
// cluster's servers and searches into DNSConfig).
import { InvalidParameterError } from '../../errors.js';

export interface DnsConfig {
  servers?: string[];
  searches?: string[];
  options?: string[];
}

/** glibc reads at most 6 search domains (kubelet's validation says the same). */
const MAX_SEARCHES = 6;

/** The file's text for this DNSConfig, or undefined when the host's file is to be used. */
export function resolvConfFromDns(dns: DnsConfig | undefined): string | undefined {
  const servers = dns?.servers ?? [];
  const searches = dns?.searches ?? [];
  const options = dns?.options ?? [];
  if (!servers.length && !searches.length && !options.length) return undefined;
  if (searches.length > MAX_SEARCHES) throw new InvalidParameterError(`DNSOption.Searches has more than ${MAX_SEARCHES} domains`);
  for (const v of [...servers, ...searches, ...options]) {
    // one line per directive: a newline would let a value write directives of its own
    if (/[\s]/.test(v) || v === '') throw new InvalidParameterError(`invalid DNS config value: ${JSON.stringify(v)}`);
  }
  let out = '';
  if (searches.length) out += `search ${searches.join(' ')}\n`;
  for (const s of servers) out += `nameserver ${s}\n`;
  if (options.length) out += `options ${options.join(' ')}\n`;
  return out;
}
