// Builds the OCI runtime spec (config.json) for a container the way dockerd does
// (moby daemon/pkg/oci/defaults.go, daemon/oci_linux.go, daemon/seccomp_linux.go).
import { existsSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { InvalidParameterError } from '../errors.js';
import { effectiveCapabilities } from './capabilities.js';
import { ociResourcesUpdate } from './cgroup-resources.js';
import type { OciMount, OciSpec, OciUser } from './oci-spec-types.js';
import { defaultSeccomp, parseSeccompProfile } from './seccomp.js';

export type MountPropagation = 'private' | 'rprivate' | 'shared' | 'rshared' | 'slave' | 'rslave';

export interface BindMount {
  source: string;
  destination: string;
  readonly: boolean;
  /** Docker's default is rprivate. */
  propagation?: MountPropagation;
  /** `bind` instead of `rbind` (Docker's BindOptions.NonRecursive). */
  nonRecursive?: boolean;
}

export interface ResourceLimits {
  /** Bytes; 0 = unlimited. */
  memory?: number;
  memoryReservation?: number;
  /** Memory + swap in bytes; -1 = unlimited swap. The engine applies Docker's "2 x memory" default. */
  memorySwap?: number;
  memorySwappiness?: number;
  oomKillDisable?: boolean;
  /** CPUs in units of 1e-9 (HostConfig.NanoCpus). */
  nanoCpus?: number;
  cpuShares?: number;
  cpuPeriod?: number;
  cpuQuota?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  /** <= 0 means unlimited, as in Docker. */
  pidsLimit?: number;
  blkioWeight?: number;
}

export interface Ulimit {
  /** Docker's name: nofile, nproc, core... */
  name: string;
  soft: number;
  hard: number;
}

export interface OciDevice {
  type: string;
  path: string;
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

/** A device cgroup rule (HostConfig.Devices' permissions, --device-cgroup-rule). */
export interface DeviceRule {
  allow: boolean;
  /** c, b or a (all). */
  type: string;
  /** undefined: any (`*`). */
  major?: number;
  minor?: number;
  access: string;
}

export interface SpecInput {
  /** Absolute path of the mounted root filesystem. */
  rootfs: string;
  args: string[];
  /** Complete environment (the engine adds PATH, HOSTNAME, TERM like Docker). */
  env: string[];
  cwd: string;
  user: OciUser;
  terminal: boolean;
  consoleSize?: { height: number; width: number };
  hostname: string;
  domainname?: string;
  readonlyRootfs?: boolean;
  privileged?: boolean;
  /** Docker names with or without CAP_, any case, or ALL. */
  capAdd?: string[];
  capDrop?: string[];
  /** The exact capability set (CAP_ names), over privileged and capAdd/capDrop: CRI's own rules. */
  capabilities?: string[];
  /** `no-new-privileges[:true]`, `seccomp=unconfined`, `seccomp=<profile JSON>`; others are ignored here. */
  securityOpt?: string[];
  /** none: a fresh empty netns; path: join the netns at `path`; host: the host's. */
  network: { mode: 'none' | 'host' | 'path'; path?: string };
  ipcHost?: boolean;
  pidHost?: boolean;
  utsHost?: boolean;
  /** Join another container's namespaces (`--ipc/--pid container:NAME`, a CRI pod's): /proc/<pid>/ns/<kind>. */
  namespacePaths?: { ipc?: string; pid?: string; uts?: string };
  /** Replace Docker's masked and read-only paths (CRI's lists); privileged still clears them. */
  maskedPaths?: string[];
  readonlyPaths?: string[];
  /** Docker's ping_group_range and ip_unprivileged_port_start sysctls; default true. */
  dockerSysctls?: boolean;
  /** `--ipc none`: a private IPC namespace without /dev/shm. */
  noShm?: boolean;
  /** Host files bind-mounted read-write at /etc/hosts, /etc/resolv.conf, /etc/hostname. */
  etcFiles: { hosts?: string; resolvConf?: string; hostname?: string };
  binds: BindMount[];
  /** Destination -> tmpfs options (`size=64m,mode=1777`), like HostConfig.Tmpfs. */
  tmpfs?: Record<string, string>;
  /** Bytes for /dev/shm; default 64 MiB. */
  shmSize?: number;
  /** cgroupfs-style path, see cgroupsPathFor(). */
  cgroupsPath: string;
  resources?: ResourceLimits;
  sysctls?: Record<string, string>;
  ulimits?: Ulimit[];
  oomScoreAdj?: number;
  /** Extra device nodes; privileged containers should get listHostDevices(). */
  devices?: OciDevice[];
  /** Allowed after Docker's default rules (the devices above need one each). */
  deviceRules?: DeviceRule[];
  annotations?: Record<string, string>;
}

export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
const CGROUP_PARENT = '/berth';

/** Docker's cgroupfs layout (`/docker/<id>`), under berth's own parent. */
export function cgroupsPathFor(id: string, parent = CGROUP_PARENT): string {
  return `${parent.replace(/\/+$/, '')}/${id}`;
}

// Facts about this host that do not change while the daemon runs; read once at load.
const cgroupV2 = (() => {
  try {
    return existsSync('/sys/fs/cgroup/cgroup.controllers');
  } catch {
    return false;
  }
})();

const hostSysctls = new Map<string, boolean>();
function sysctlExists(name: string): boolean {
  let known = hostSysctls.get(name);
  if (known === undefined) {
    known = existsSync(`/proc/sys/${name.replaceAll('.', '/')}`);
    hostSysctls.set(name, known);
  }
  return known;
}

const MASKED_PATHS: readonly string[] = (() => {
  const paths = [
    '/proc/acpi', '/proc/asound', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
    '/proc/sched_debug', '/proc/scsi', '/proc/timer_list', '/proc/timer_stats',
    '/sys/devices/virtual/powercap', '/sys/firmware',
  ];
  for (let cpu = 0; cpu < cpus().length; cpu++) {
    const path = `/sys/devices/system/cpu/cpu${cpu}/thermal_throttle`;
    try {
      statSync(path);
      paths.push(path);
    } catch {
      // not on this host
    }
  }
  return paths;
})();

const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const DEFAULT_DEVICE_RULES = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
  { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
];

function defaultMounts(shmSize: number, hostNetwork: boolean): OciMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    // sysfs can only be mounted from a netns we own; with the host's, bind the host's /sys.
    hostNetwork
      ? { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
      : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSize}`],
    },
  ];
}

// Mount flags that cancel each other; the later one wins (moby mount.MergeTmpfsOptions).
const FLAG_PAIRS: Record<string, string> = {
  exec: 'noexec', noexec: 'exec', suid: 'nosuid', nosuid: 'suid', dev: 'nodev', nodev: 'dev',
  ro: 'rw', rw: 'ro', atime: 'noatime', noatime: 'atime', diratime: 'nodiratime', nodiratime: 'diratime',
};
const PROPAGATIONS = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);

export function mergeTmpfsOptions(options: string[]): string[] {
  const out: string[] = [];
  for (const opt of options) {
    if (!opt) continue;
    const eq = opt.indexOf('=');
    if (eq > 0) {
      const key = opt.slice(0, eq + 1);
      const at = out.findIndex((o) => o.startsWith(key));
      if (at >= 0) out.splice(at, 1);
    } else if (PROPAGATIONS.has(opt)) {
      const at = out.findIndex((o) => PROPAGATIONS.has(o));
      if (at >= 0) out.splice(at, 1);
    } else {
      const opposite = FLAG_PAIRS[opt];
      const at = out.findIndex((o) => o === opt || o === opposite);
      if (at >= 0) out.splice(at, 1);
    }
    out.push(opt);
  }
  return out;
}

function pathDepth(p: string): number {
  return p.split('/').filter(Boolean).length;
}

interface SecurityOptions {
  noNewPrivileges: boolean;
  /** undefined = default profile, 'unconfined', or a JSON profile. */
  seccomp?: string;
}

export function parseSecurityOpt(opts: string[] = []): SecurityOptions {
  const result: SecurityOptions = { noNewPrivileges: false };
  for (const opt of opts) {
    if (opt === 'no-new-privileges') {
      result.noNewPrivileges = true;
      continue;
    }
    const sep = opt.search(/[=:]/);
    if (sep < 0) throw new InvalidParameterError(`Invalid --security-opt: "${opt}"`);
    const key = opt.slice(0, sep);
    const value = opt.slice(sep + 1);
    switch (key) {
      case 'no-new-privileges':
        if (value !== 'true' && value !== 'false') {
          throw new InvalidParameterError(`invalid --security-opt 2: "${opt}"`);
        }
        result.noNewPrivileges = value === 'true';
        break;
      case 'seccomp':
        result.seccomp = value;
        break;
      case 'apparmor':
      case 'label':
      case 'systempaths':
      case 'writable-cgroups':
        break; // not this layer's business (no AppArmor/SELinux here)
      default:
        throw new InvalidParameterError(`invalid --security-opt 2: "${opt}"`);
    }
  }
  return result;
}

function resourcesSpec(input: SpecInput): Record<string, unknown> {
  const r = input.resources ?? {};
  const res: Record<string, unknown> = {
    devices: input.privileged
      ? [{ allow: true, access: 'rwm' }]
      : [...DEFAULT_DEVICE_RULES.map((d) => ({ ...d })), ...(input.deviceRules ?? []).map((d) => ({ ...d }))],
    ...ociResourcesUpdate(r),
  };
  // Swappiness and the OOM-killer switch are create-time only (`docker update` cannot set them).
  const extra: Record<string, unknown> = {};
  if (r.memorySwappiness !== undefined && r.memorySwappiness >= 0) extra.swappiness = r.memorySwappiness;
  if (r.oomKillDisable) extra.disableOOMKiller = true;
  if (Object.keys(extra).length) res.memory = { ...((res.memory as object | undefined) ?? {}), ...extra };
  return res;
}

export function buildSpec(input: SpecInput): OciSpec {
  const privileged = input.privileged === true;
  const hostNetwork = input.network.mode === 'host';
  if (input.network.mode === 'path' && !input.network.path) {
    throw new InvalidParameterError('network namespace path is required');
  }
  const security = parseSecurityOpt(input.securityOpt);
  const caps = input.capabilities ? [...input.capabilities] : effectiveCapabilities(input);

  // Namespaces in Docker's order; the time namespace is left out (runc 1.1 has none).
  const namespaces: { type: string; path?: string }[] = [{ type: 'mount' }];
  if (input.network.mode === 'path') namespaces.push({ type: 'network', path: input.network.path! });
  else if (!hostNetwork) namespaces.push({ type: 'network' });
  const joined = input.namespacePaths ?? {};
  if (joined.uts) namespaces.push({ type: 'uts', path: joined.uts });
  else if (!input.utsHost) namespaces.push({ type: 'uts' });
  if (joined.pid) namespaces.push({ type: 'pid', path: joined.pid });
  else if (!input.pidHost) namespaces.push({ type: 'pid' });
  if (joined.ipc) namespaces.push({ type: 'ipc', path: joined.ipc });
  else if (!input.ipcHost) namespaces.push({ type: 'ipc' });
  // Docker's default cgroupns mode is "private" on v2 and "host" on v1.
  if (cgroupV2) namespaces.push({ type: 'cgroup' });

  // Mounts: defaults minus those a user mount replaces, then user mounts shallowest first.
  const userMounts: OciMount[] = [];
  for (const bind of input.binds) {
    const options = [bind.nonRecursive ? 'bind' : 'rbind'];
    if (bind.readonly) options.push('ro');
    options.push(bind.propagation ?? 'rprivate');
    userMounts.push({ destination: bind.destination, type: 'bind', source: bind.source, options });
  }
  for (const [destination, data] of Object.entries(input.tmpfs ?? {})) {
    const options = mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', 'rprivate', ...data.split(',')]);
    userMounts.push({ destination, type: 'tmpfs', source: 'tmpfs', options });
  }
  const etc: [string, string | undefined][] = [
    ['/etc/resolv.conf', input.etcFiles.resolvConf],
    ['/etc/hostname', input.etcFiles.hostname],
    ['/etc/hosts', input.etcFiles.hosts],
  ];
  for (const [destination, source] of etc) {
    if (source && !userMounts.some((m) => m.destination === destination)) {
      userMounts.push({ destination, type: 'bind', source, options: ['rbind', 'rprivate'] });
    }
  }
  userMounts.sort((a, b) => pathDepth(a.destination) - pathDepth(b.destination));
  const userDestinations = new Set(userMounts.map((m) => m.destination));
  const userDev = userDestinations.has('/dev');

  const mounts: OciMount[] = defaultMounts(input.shmSize || DEFAULT_SHM_SIZE, hostNetwork).filter(
    (m) =>
      !userDestinations.has(m.destination) &&
      !(userDev && m.destination.startsWith('/dev/')) &&
      !(m.destination === '/dev/shm' && (input.ipcHost || input.noShm)),
  );
  if (input.readonlyRootfs) {
    const writable = new Set(['/proc', '/dev/pts', '/dev/shm', '/dev/mqueue', '/dev']);
    for (const m of mounts) {
      if (!writable.has(m.destination) && !m.options?.includes('ro')) m.options = [...(m.options ?? []), 'ro'];
    }
  }
  if (privileged) {
    for (const m of mounts) {
      if (m.destination === '/sys' || m.type === 'cgroup') m.options = m.options?.filter((o) => o !== 'ro');
    }
  }
  mounts.push(...userMounts);

  const sysctl: Record<string, string> = {};
  if (!hostNetwork && input.dockerSysctls !== false) {
    if (sysctlExists('net.ipv4.ping_group_range')) sysctl['net.ipv4.ping_group_range'] = '0 2147483647';
    if (sysctlExists('net.ipv4.ip_unprivileged_port_start')) sysctl['net.ipv4.ip_unprivileged_port_start'] = '0';
  }
  // runc 1.1 ignores the spec's domainname; the UTS namespace's sysctl sets it (as moby did).
  const ownUts = !input.utsHost && !joined.uts;
  if (input.domainname && ownUts) sysctl['kernel.domainname'] = input.domainname;
  Object.assign(sysctl, input.sysctls ?? {});

  let seccomp: Record<string, unknown> | undefined;
  if (security.seccomp === 'unconfined') {
    seccomp = undefined;
  } else if (privileged) {
    // Privileged containers run unconfined unless a profile is named explicitly.
    if (security.seccomp && security.seccomp !== 'builtin') seccomp = { ...parseSeccompProfile(security.seccomp, caps) };
  } else if (security.seccomp && security.seccomp !== 'builtin') {
    seccomp = { ...parseSeccompProfile(security.seccomp, caps) };
  } else {
    const profile = defaultSeccomp(caps);
    seccomp = profile ? { ...profile } : undefined;
  }

  const spec: OciSpec = {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: input.terminal,
      user: input.user,
      args: input.args,
      env: input.env,
      cwd: input.cwd || '/',
      capabilities: { bounding: caps, effective: [...caps], permitted: [...caps] },
      oomScoreAdj: input.oomScoreAdj ?? 0,
    },
    root: { path: input.rootfs, readonly: input.readonlyRootfs === true },
    // runc can set a hostname only in a UTS namespace of its own
    hostname: ownUts ? input.hostname : undefined,
    mounts,
    linux: {
      namespaces,
      cgroupsPath: input.cgroupsPath,
      resources: resourcesSpec(input),
      sysctl,
      maskedPaths: privileged ? [] : [...(input.maskedPaths ?? MASKED_PATHS)],
      readonlyPaths: privileged ? [] : [...(input.readonlyPaths ?? READONLY_PATHS)],
      devices: input.devices?.map((d) => ({ ...d })) ?? [],
    },
  };
  if (input.terminal && input.consoleSize) spec.process.consoleSize = input.consoleSize;
  if (security.noNewPrivileges) spec.process.noNewPrivileges = true;
  if (input.ulimits?.length) {
    spec.process.rlimits = input.ulimits.map((u) => ({ type: `RLIMIT_${u.name.toUpperCase()}`, soft: u.soft, hard: u.hard }));
  }
  if (input.domainname && ownUts) spec.domainname = input.domainname;
  if (seccomp) spec.linux.seccomp = seccomp;
  if (input.binds.some((b) => b.propagation === 'shared' || b.propagation === 'rshared')) {
    spec.linux.rootfsPropagation = 'shared';
  } else if (input.binds.some((b) => b.propagation === 'slave' || b.propagation === 'rslave')) {
    spec.linux.rootfsPropagation = 'rslave';
  }
  if (input.annotations && Object.keys(input.annotations).length) spec.annotations = { ...input.annotations };
  return spec;
}
