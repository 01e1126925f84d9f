// Version, Status, RuntimeConfig and UpdateRuntimeConfig: what kubelet and critest ask of a runtime
// before anything else (cri-client calls Version on every connection).
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { ENGINE_NAME, ENGINE_VERSION } from '../engine/system/info.js';
import { InvalidParameterError } from '../errors.js';
import { NETAVARK_BINARY } from '../runtime/netavark/netavark.js';
import type { CriContext } from './context.js';
import type { RuntimeHandlers } from './handler-types.js';

/** The CRI API version kubelet checks (runtime_api_version). */
export const CRI_API_VERSION = 'v1';
/** VersionResponse.version: the version of the CRI service berth speaks, as containerd reports 0.1.0. */
export const CRI_SERVICE_VERSION = '0.1.0';

export function runtimeInfoHandlers(ctx: CriContext): RuntimeHandlers {
  return {
    Version: async () => ({
      version: CRI_SERVICE_VERSION,
      runtimeName: ENGINE_NAME,
      runtimeVersion: ENGINE_VERSION,
      runtimeApiVersion: CRI_API_VERSION,
    }),

    Status: async (req: { verbose?: boolean }) => {
      const network = await networkCondition();
      const res: Record<string, unknown> = {
        status: {
          conditions: [{ type: 'RuntimeReady', status: true, reason: '', message: '' }, network],
        },
        runtimeHandlers: runtimeHandlers(ctx),
        features: { supplementalGroupsPolicy: true, userNamespacesHostNetwork: false },
      };
      if (req.verbose) {
        res.info = {
          config: JSON.stringify({
            socket: ctx.config.socket,
            streamAddress: ctx.config.streamAddress,
            streamPort: ctx.config.streamPort,
            sandboxImage: ctx.config.sandboxImage,
            podSubnet: ctx.config.podSubnet,
            podCidr: ctx.podCidr,
            registryMirrors: ctx.config.registryMirrors,
            defaultRuntime: ctx.engine.config.defaultRuntime,
          }),
        };
      }
      return res;
    },

    // critest and kubelet pick cgroupfs paths from this answer (without it they fall back to a
    // systemd-style /test.slice that nothing removes afterwards).
    RuntimeConfig: async () => ({ linux: { cgroupDriver: 'CGROUPFS' } }),

    UpdateRuntimeConfig: async (req: { runtimeConfig?: { networkConfig?: { podCidr?: string } } }) => {
      const cidr = req.runtimeConfig?.networkConfig?.podCidr ?? '';
      // kubelet sends '' until the node has a CIDR: an empty one changes nothing, as in containerd
      if (cidr === '') return {};
      for (const part of cidr.split(',')) {
        if (!/^[0-9a-fA-F.:]+\/[0-9]{1,3}$/.test(part.trim())) throw new InvalidParameterError(`invalid pod CIDR ${JSON.stringify(cidr)}`);
      }
      ctx.podCidr = cidr;
      ctx.logger.info({ podCidr: cidr }, 'pod CIDR updated by the CRI client');
      return {};
    },
  };
}

/**
 * One handler per daemon.json `runtimes` entry (a RuntimeClass handler name), plus "" for the
 * default. runc 1.1 has neither recursive read-only mounts nor idmapped mounts, so no feature is
 * claimed (critest then skips those specs instead of failing them).
 */
export function runtimeHandlers(ctx: CriContext): { name: string; features: { recursiveReadOnlyMounts: boolean; userNamespaces: boolean } }[] {
  const features = { recursiveReadOnlyMounts: false, userNamespaces: false };
  const names = ['', ...Object.keys(ctx.engine.config.runtimes).sort()];
  return names.map((name) => ({ name, features: { ...features } }));
}

async function networkCondition(): Promise<{ type: string; status: boolean; reason: string; message: string }> {
  try {
    await access(NETAVARK_BINARY, constants.X_OK);
    return { type: 'NetworkReady', status: true, reason: '', message: '' };
  } catch {
    return { type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady', message: `netavark is not usable: ${NETAVARK_BINARY} is missing or not executable` };
  }
}
