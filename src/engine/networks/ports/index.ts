// Published ports (issue 9 item 4). Placeholder signatures, filled in by the ports work.
import type { ContainerConfig, HostConfig } from '../../containers/model.js';
import type { NetavarkPortMapping, PortMapping } from './types.js';

export type { NetavarkPortMapping, PortMapping } from './types.js';

/** At create: HostConfig.PortBindings, PublishAllPorts and Config.ExposedPorts, with Docker's errors. */
export function validatePorts(_hc: HostConfig, _config: ContainerConfig): void {}

/**
 * At start: the container's mappings, host ports picked for `-p 80` / `-P`, requested ones
 * checked free (not in `taken`, the other running containers' mappings, nor bound on the host);
 * a busy port is an error naming it.
 */
export async function allocatePorts(_hc: HostConfig, _config: ContainerConfig, _taken: PortMapping[]): Promise<PortMapping[]> {
  return [];
}

/** netavark's port_mappings (consecutive ports merged into ranges). */
export function toNetavarkPortMappings(m: PortMapping[]): NetavarkPortMapping[] {
  return m.map((p) => ({ host_ip: p.hostIp, container_port: p.containerPort, host_port: p.hostPort, range: 1, protocol: p.protocol }));
}

/** NetworkSettings.Ports: every exposed port, with its bindings while running (null otherwise). */
export function inspectPorts(_config: ContainerConfig, _mappings: PortMapping[] | null): Record<string, { HostIp: string; HostPort: string }[] | null> {
  return {};
}

/** GET /containers/json's Ports. */
export function listPorts(_config: ContainerConfig, _mappings: PortMapping[] | null): { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] {
  return [];
}
