// The CRI pod network: an engine bridge network of its own (`berth-cri`, its subnet from the
// `cri.pod-subnet` setting), so pods get addresses, routes, masquerade and hostPort forwards from
// the same IPAM and netavark code as Docker's networks. Made at the first pod that needs it, in
// the CRI's namespace: Docker's network ls, inspect, connect, rm and prune never see it;
// kubelet's pod CIDR (UpdateRuntimeConfig), once it sends one, replaces the setting.
import type { Logger } from 'pino';
import { NotFoundError } from '../../errors.js';
import type { NetworkService } from '../../engine/networks/service.js';
import { CRI_NAMESPACE } from '../../engine/containers/cri-extras.js';

export const POD_NETWORK_NAME = 'berth-cri';
export const POD_NETWORK_LABEL = 'io.berth.cri.pod-network';

/** The network's name, made (or remade for a changed subnet while no pod uses it) as needed. */
export async function ensurePodNetwork(networks: NetworkService, subnet: string, logger: Logger): Promise<string> {
  let existing;
  try {
    existing = networks.findIn(CRI_NAMESPACE, POD_NETWORK_NAME);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  if (existing) {
    if (existing.ipam.Config[0]?.Subnet === subnet) return POD_NETWORK_NAME;
    if (networks.endpointsOn(existing.id).some((e) => e.ipAddress)) {
      logger.warn({ network: POD_NETWORK_NAME, subnet: existing.ipam.Config[0]?.Subnet, configured: subnet }, 'pods use the pod network: it keeps its subnet until none does');
      return POD_NETWORK_NAME;
    }
    await networks.removeNetwork(existing.id, { namespace: CRI_NAMESPACE });
  }
  await networks.createNetwork({ Name: POD_NETWORK_NAME, Driver: 'bridge', IPAM: { Config: [{ Subnet: subnet }] }, Labels: { [POD_NETWORK_LABEL]: 'true' } }, { namespace: CRI_NAMESPACE });
  return POD_NETWORK_NAME;
}

/** The IPv4 range of kubelet's pod CIDR ('' or a dual-stack list 'v4,v6'), if it has one. */
export function podCidrV4(podCidr: string): string | undefined {
  return podCidr
    .split(',')
    .map((p) => p.trim())
    .find((p) => /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(p));
}
