// The JSON shapes of GET /containers/{id}/json and GET /containers/json, from the record.
import type { ContainerRecord } from './model.js';
import { statusText } from './status-text.js';
import { listNetworks, networkSettings as networkSettingsOf, type ContainerNetworkState } from '../networks/container-settings.js';
import { mountsView } from '../volumes/view.js';

export interface ViewContext {
  bundleDir: string;
  logPath: string;
  /** The image's familiar name for the list's Image column, when the record's ref is gone. */
  imageName: string;
  rootfsDir?: string;
  /** IDs of the container's exec instances that have not exited (inspect's ExecIDs). */
  execIds?: string[] | null;
  /** The container's networks, endpoints and ports (src/engine/networks/api.ts containerState). */
  network?: ContainerNetworkState;
}

function networkSettings(c: ContainerRecord) {
  const mode = c.hostConfig.NetworkMode;
  return {
    Bridge: '',
    SandboxID: '',
    SandboxKey: '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: {},
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: '',
    Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    MacAddress: '',
    Networks: {
      [mode]: {
        IPAMConfig: null,
        Links: null,
        Aliases: null,
        MacAddress: '',
        DriverOpts: null,
        GwPriority: 0,
        NetworkID: '',
        EndpointID: '',
        Gateway: '',
        IPAddress: '',
        IPPrefixLen: 0,
        IPv6Gateway: '',
        GlobalIPv6Address: '',
        GlobalIPv6PrefixLen: 0,
        DNSNames: null,
      },
    },
  };
}

export function inspectView(c: ContainerRecord, ctx: ViewContext) {
  const s = c.state;
  return {
    Id: c.id,
    Created: c.created,
    Path: c.path,
    Args: c.args,
    State: {
      Status: s.Status,
      Running: s.Status === 'running' || s.Status === 'paused',
      Paused: s.Status === 'paused',
      Restarting: s.Status === 'restarting',
      OOMKilled: s.OOMKilled,
      Dead: s.Status === 'dead',
      Pid: s.Pid,
      ExitCode: s.ExitCode,
      Error: s.Error,
      StartedAt: s.StartedAt,
      FinishedAt: s.FinishedAt,
      ...(s.Health ? { Health: s.Health } : {}),
    },
    Image: c.imageId,
    ResolvConfPath: `${ctx.bundleDir}/resolv.conf`,
    HostnamePath: `${ctx.bundleDir}/hostname`,
    HostsPath: `${ctx.bundleDir}/hosts`,
    LogPath: ctx.logPath,
    Name: c.name,
    RestartCount: c.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: ctx.execIds ?? null,
    HostConfig: c.hostConfig,
    GraphDriver: { Name: 'overlay2', Data: ctx.rootfsDir ? { MergedDir: ctx.rootfsDir } : null },
    Mounts: mountsView(c),
    Config: { ...c.config, Image: c.imageRef },
    NetworkSettings: ctx.network ? networkSettingsOf(c, ctx.network) : networkSettings(c),
  };
}

/** Command column of `docker ps`: moby joins Path and Args with spaces. */
function command(c: ContainerRecord): string {
  return [c.path, ...c.args].filter((x) => x !== undefined).join(' ');
}

/** The list needs only the image name and the network state: no paths, no exec IDs (ps -a of thousands). */
export function listView(c: ContainerRecord, ctx: Pick<ViewContext, 'imageName' | 'network'>) {
  return {
    Id: c.id,
    Names: [c.name],
    Image: c.imageRef || ctx.imageName,
    ImageID: c.imageId,
    Command: command(c),
    Created: Math.floor(Date.parse(c.created) / 1000),
    Ports: ctx.network?.listPorts ?? [],
    Labels: c.config.Labels ?? {},
    State: c.state.Status,
    Status: statusText(c),
    HostConfig: { NetworkMode: c.hostConfig.NetworkMode },
    NetworkSettings: { Networks: ctx.network ? listNetworks(c, ctx.network) : networkSettings(c).Networks },
    Mounts: mountsView(c),
  };
}
