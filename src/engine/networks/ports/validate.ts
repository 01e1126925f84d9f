// Create-time checks of the port options (moby's validatePortBindings, daemon/container.go),
// plus the ones moby leaves to start, where a bad value would only surface as a broken mapping.
import { InvalidParameterError } from '../../../errors.js';
import type { HostConfig } from '../../containers/model.js';
import { isProtocol, normaliseHostIp, parseHostPort, parsePortRange, splitProtoPort } from './spec.js';
import { wrongFieldType } from '../../go-json.js';

const wrongType = (v: unknown, field: string, want: string) => wrongFieldType(field, v, want);

interface RawBinding {
  HostIp?: unknown;
  HostPort?: unknown;
}

/** At create: HostConfig.PortBindings, PublishAllPorts and Config.ExposedPorts, with Docker's errors. */
export function validatePorts(hc: HostConfig, config: { ExposedPorts?: Record<string, unknown> | null }): void {
  const bindings = hc.PortBindings;
  if (bindings !== undefined && bindings !== null) {
    if (typeof bindings !== 'object' || Array.isArray(bindings)) {
      throw wrongType(bindings, 'HostConfig.PortBindings', 'nat.PortMap');
    }
    for (const [key, list] of Object.entries(bindings as Record<string, unknown>)) {
      checkKey(key, false);
      if (list === null) continue;
      if (!Array.isArray(list)) throw wrongType(list, 'HostConfig.PortBindings', '[]nat.PortBinding');
      for (const b of list as RawBinding[]) {
        if (b === null || typeof b !== 'object' || Array.isArray(b)) throw wrongType(b, 'HostConfig.PortBindings', 'nat.PortBinding');
        const hostPort = b.HostPort ?? '';
        const hostIp = b.HostIp ?? '';
        if (typeof hostPort !== 'string') throw wrongType(hostPort, 'PortBinding.HostConfig.PortBindings.HostPort', 'string');
        if (typeof hostIp !== 'string') throw wrongType(hostIp, 'PortBinding.HostConfig.PortBindings.HostIp', 'string');
        if (typeof parseHostPort(hostPort) === 'string') throw new InvalidParameterError(`invalid port specification: ${JSON.stringify(hostPort)}`);
        if (normaliseHostIp(hostIp) === undefined) throw new InvalidParameterError(`invalid IP address: ${hostIp}`);
      }
    }
  }
  if (hc.PublishAllPorts !== undefined && typeof hc.PublishAllPorts !== 'boolean') {
    throw wrongType(hc.PublishAllPorts, 'HostConfig.PublishAllPorts', 'bool');
  }
  for (const key of Object.keys(config.ExposedPorts ?? {})) checkKey(key, true);
}

/**
 * A port key: moby requires a single port for a binding's key ("invalid port specification");
 * exposed ports may be ranges, as EXPOSE writes them. An unknown protocol would be mapped as
 * nothing at start, so it is refused here with nat's text.
 */
function checkKey(key: string, rangeAllowed: boolean): void {
  const [proto, port] = splitProtoPort(key);
  const r = parsePortRange(port);
  if (typeof r === 'string' || (!rangeAllowed && r.start !== r.end) || r.start === 0) {
    throw new InvalidParameterError(`invalid port specification: ${JSON.stringify(port)}`);
  }
  if (!isProtocol(proto.toLowerCase())) throw new InvalidParameterError(`invalid proto: ${proto}`);
}

/** moby's create warning (daemon_unix.go verifyPlatformContainerSettings). */
export function portWarnings(hc: HostConfig): string[] {
  const bindings = hc.PortBindings as Record<string, unknown> | null | undefined;
  return hc.NetworkMode === 'host' && bindings && Object.keys(bindings).length > 0 ? ['Published ports are discarded when using host network mode'] : [];
}
