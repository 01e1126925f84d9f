// The figures of GET /info and GET /version, read from the machine.
import { existsSync } from 'node:fs';
import os from 'node:os';
import { readFile, statfs } from 'node:fs/promises';
import type { RuntimeHandler } from '../../runtime/task-backend.js';
import type { ContainerRecord } from '../containers/model.js';
import type { ServiceConfigView } from '../../images/distribution/registry-config.js';
import { tcpInfoWarnings } from './tcp-hosts.js';

export const ENGINE_NAME = 'berth';
export const ENGINE_VERSION = '0.1.0';
/** The Docker release whose API berth speaks; tools parse /version's Version as semver. */
export const DOCKER_COMPAT_VERSION = '28.2.2';
export const API_VERSION = '1.50';
export const MIN_API_VERSION = '1.24';

export function cgroupVersion(): '1' | '2' {
  return existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1';
}

let osName: Promise<string> | undefined;
function operatingSystem(): Promise<string> {
  osName ??= readFile('/etc/os-release', 'utf8')
    .then((t) => /^PRETTY_NAME="?([^"\n]*)"?/m.exec(t)?.[1] ?? 'Linux')
    .catch(() => 'Linux');
  return osName;
}

function osVersion(): Promise<string> {
  return readFile('/etc/os-release', 'utf8')
    .then((t) => /^VERSION_ID="?([^"\n]*)"?/m.exec(t)?.[1] ?? '')
    .catch(() => '');
}

// statfs magic numbers, named as moby's fsutils names them for DriverStatus.
const FS_NAMES: Record<number, string> = {
  0xef53: 'extfs',
  0x58465342: 'xfs',
  0x9123683e: 'btrfs',
  0x01021994: 'tmpfs',
  0x794c7630: 'overlayfs',
  0x2fc12fc1: 'zfs',
};

async function backingFilesystem(path: string): Promise<string> {
  try {
    const { type } = await statfs(path);
    return FS_NAMES[type] ?? `<unknown (0x${type.toString(16)})>`;
  } catch {
    return '<unknown>';
  }
}

export interface InfoInput {
  id: string;
  containers: ContainerRecord[];
  imageCount: number;
  dataRoot: string;
  execRoot: string;
  runtimes: Record<string, RuntimeHandler>;
  defaultRuntime: string;
  startedAt: Date;
  registryConfig: ServiceConfigView;
  /** The daemon's -H hosts: a tcp:// one is warned about as dockerd does. */
  hosts?: string[];
}

export async function systemInfo(i: InfoInput) {
  const count = (s: string) => i.containers.filter((c) => c.state.Status === s).length;
  const running = count('running') + count('restarting');
  const paused = count('paused');
  return {
    ID: i.id,
    Containers: i.containers.length,
    ContainersRunning: running,
    ContainersPaused: paused,
    ContainersStopped: i.containers.length - running - paused,
    Images: i.imageCount,
    Driver: 'overlay2',
    DriverStatus: [
      ['Backing Filesystem', await backingFilesystem(i.dataRoot)],
      ['Supports d_type', 'true'],
      ['Using metacopy', 'false'],
      ['Native Overlay Diff', 'true'],
    ],
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['json-file', 'k8s-file'] },
    MemoryLimit: true,
    SwapLimit: true,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: true,
    Debug: false,
    NFd: 0,
    OomKillDisable: cgroupVersion() === '1',
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs',
    CgroupVersion: cgroupVersion(),
    NEventsListener: 0,
    KernelVersion: os.release(),
    OperatingSystem: await operatingSystem(),
    OSVersion: await osVersion(),
    OSType: 'linux',
    Architecture: os.machine(),
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: i.registryConfig,
    NCPU: os.cpus().length,
    MemTotal: os.totalmem(),
    GenericResources: null,
    DockerRootDir: i.dataRoot,
    HttpProxy: process.env.HTTP_PROXY ?? '',
    HttpsProxy: process.env.HTTPS_PROXY ?? '',
    NoProxy: process.env.NO_PROXY ?? '',
    Name: os.hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: DOCKER_COMPAT_VERSION,
    Runtimes: Object.fromEntries(Object.entries(i.runtimes).map(([name, r]) => [name, { path: r.path, runtimeArgs: r.args.length ? r.args : undefined }])),
    DefaultRuntime: i.defaultRuntime,
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: 'docker-init',
    ContainerdCommit: { ID: '' },
    RuncCommit: { ID: '' },
    InitCommit: { ID: '' },
    SecurityOptions: ['name=seccomp,profile=builtin', ...(cgroupVersion() === '2' ? ['name=cgroupns'] : [])],
    ProductLicense: `${ENGINE_NAME} ${ENGINE_VERSION}`,
    Warnings: tcpInfoWarnings(i.hosts ?? []),
    CDISpecDirs: [],
    Containerd: null,
    ExecRoot: i.execRoot,
  };
}

export function versionInfo() {
  return {
    Platform: { Name: `${ENGINE_NAME} ${ENGINE_VERSION}` },
    Components: [
      { Name: 'Engine', Version: DOCKER_COMPAT_VERSION, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: goArch(), KernelVersion: os.release(), Experimental: 'false', BuiltBy: ENGINE_NAME, BerthVersion: ENGINE_VERSION } },
    ],
    Version: DOCKER_COMPAT_VERSION,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: '',
    GoVersion: `node${process.versions.node}`,
    Os: 'linux',
    Arch: goArch(),
    KernelVersion: os.release(),
    Experimental: false,
    BuildTime: '',
  };
}

/** Docker reports Go's GOARCH names. */
export function goArch(): string {
  const a = os.arch();
  return a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a;
}
