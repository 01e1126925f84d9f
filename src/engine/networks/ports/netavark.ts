// berth's mappings as netavark's `port_mappings`: consecutive ports (a `-p 9000-9099:9000-9099`)
// merged into one entry with a `range`, so netavark writes one rule for them, not a hundred.
import type { NetavarkPortMapping, PortMapping } from './types.js';

export function toNetavarkPortMappings(m: PortMapping[]): NetavarkPortMapping[] {
  const sorted = [...m].sort(
    (a, b) => (a.hostIp < b.hostIp ? -1 : a.hostIp > b.hostIp ? 1 : 0) || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0) || a.hostPort - b.hostPort,
  );
  const out: NetavarkPortMapping[] = [];
  for (const p of sorted) {
    const prev = out[out.length - 1];
    if (
      prev &&
      prev.host_ip === p.hostIp &&
      prev.protocol === p.protocol &&
      prev.host_port + prev.range === p.hostPort &&
      prev.container_port + prev.range === p.containerPort
    ) {
      prev.range++;
      continue;
    }
    out.push({ host_ip: p.hostIp, container_port: p.containerPort, host_port: p.hostPort, range: 1, protocol: p.protocol });
  }
  return out;
}
