// The `publish` and `expose` filters of GET /containers/json (moby daemon/list.go portOp and
// includeContainerInList): matched against the ports the list shows, so only against what a
// running container publishes or exposes.
import { InvalidParameterError } from '../../../errors.js';
import { parsePortRange, splitProtoPort } from './spec.js';
import type { ListedPort } from './views.js';

/** `8080`, `8080/udp` or `8000-8100/tcp` -> the set of "port/proto" keys; moby's errors. */
export function parsePortFilter(key: 'publish' | 'expose', values: string[]): Set<string> {
  const out = new Set<string>();
  for (const value of values) {
    if (value.includes(':')) throw new InvalidParameterError(`filter for '${key}' should not contain ':': ${value}`);
    const [proto, port] = splitProtoPort(value);
    const r = parsePortRange(port);
    if (typeof r === 'string') throw new InvalidParameterError(`error while looking up for ${key} ${value}: ${r}`);
    for (let p = r.start; p <= r.end; p++) out.add(`${p}/${proto}`);
  }
  return out;
}

/** Whether a container with these listed ports passes: one of them published or exposed as asked. */
export function portFiltersMatch(ports: ListedPort[], publish: Set<string>, expose: Set<string>): boolean {
  if (publish.size === 0 && expose.size === 0) return true;
  // moby prints PublicPort 0 for an exposed-only port; it never matches a real filter port.
  return ports.some((p) => publish.has(`${p.PublicPort ?? 0}/${p.Type}`) || expose.has(`${p.PrivatePort}/${p.Type}`));
}
