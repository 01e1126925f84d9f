// The HostConfig options that shape a container's OCI spec beyond its command and rootfs
// (issue 3, item 6): init, tmpfs, ulimits, /dev/shm, sysctls, devices, namespaces shared with
// the host or another container. validateHostOptions() runs at create with moby's messages;
// hostSpecOptions() is the pure mapping a start feeds to buildSpec, given the facts it looked up.
import { InvalidParameterError } from '../../errors.js';
import type { BindMount, DeviceRule, OciDevice, SpecInput, Ulimit } from '../../runtime/oci-spec.js';
import { parseSecurityOpt } from '../../runtime/oci-spec.js';
import { normalizeCapability } from '../../runtime/capabilities.js';
import type { HostConfig } from './model.js';
import { parseResourceUpdate, validateResourceUpdate } from '../lifecycle/resources.js';

/** Where Docker mounts its init in the container (moby daemon/oci_linux.go). */
export const INIT_PATH_IN_CONTAINER = '/sbin/docker-init';

// Docker's ulimit names (docker/go-units ulimit.go) and the kernel resource each sets.
const ULIMIT_NAMES = new Set([
  'as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc',
  'rss', 'rtprio', 'rttime', 'sigpending', 'stack',
]);

// Sysctls that live in a namespace a container owns (runc's validateSysctl).
const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

type Json = Record<string, unknown>;

function list<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

function record(v: unknown): Record<string, string> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : {};
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** `host`, `container:<name|id>`, or a plain mode. */
export function namespaceMode(v: unknown): { kind: 'host' | 'container' | 'other'; value: string } {
  const mode = str(v);
  if (mode === 'host') return { kind: 'host', value: mode };
  if (mode.startsWith('container:')) return { kind: 'container', value: mode.slice('container:'.length) };
  return { kind: 'other', value: mode };
}

export interface ExtraHost {
  name: string;
  ip: string;
}

/** `name:ip` (API) or `name=ip` (newer CLIs); IPv6 addresses keep their colons. */
export function parseExtraHost(entry: string): ExtraHost {
  const eq = entry.indexOf('=');
  const sep = eq >= 0 ? eq : entry.indexOf(':');
  const name = sep > 0 ? entry.slice(0, sep) : '';
  let ip = sep > 0 ? entry.slice(sep + 1) : '';
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (!name) throw new InvalidParameterError(`bad format for add-host: "${entry}"`);
  if (ip !== 'host-gateway' && !isIp(ip)) throw new InvalidParameterError(`invalid IP address in add-host: "${ip}"`);
  return { name, ip };
}

export function isIp(s: string): boolean {
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(s)) return s.split('.').every((p) => Number(p) <= 255);
  return /^[0-9a-fA-F:.]+$/.test(s) && s.includes(':') && (s.match(/::/g) ?? []).length <= 1;
}

/** `c 1:3 mr`, `b *:* rwm`, `a` (moby's DeviceCgroupRules, as runc's device rule parser). */
export function parseDeviceCgroupRule(rule: string): DeviceRule {
  const m = /^([acb])(?: ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3}))?$/.exec(rule.trim());
  if (!m) throw new InvalidParameterError(`invalid device cgroup format '${rule}'`);
  if (m[1] === 'a') return { allow: true, type: 'a', access: 'rwm' };
  return {
    allow: true,
    type: m[1]!,
    major: m[2] === '*' || m[2] === undefined ? undefined : Number(m[2]),
    minor: m[3] === '*' || m[3] === undefined ? undefined : Number(m[3]),
    access: m[4] ?? 'rwm',
  };
}

export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

export function deviceMappings(hc: HostConfig): DeviceMapping[] {
  return list<Json>(hc.Devices).map((d) => ({
    PathOnHost: str(d.PathOnHost),
    PathInContainer: str(d.PathInContainer) || str(d.PathOnHost),
    CgroupPermissions: str(d.CgroupPermissions) || 'rwm',
  }));
}

function ulimits(hc: HostConfig): Ulimit[] {
  return list<Json>(hc.Ulimits).map((u) => ({ name: str(u.Name), soft: num(u.Soft), hard: num(u.Hard) }));
}

/** Bad options are refused at create, before anything is made, with moby's (or runc's) words. */
export function validateHostOptions(hc: HostConfig, config: { Hostname: string }): void {
  parseSecurityOpt(hc.SecurityOpt ?? []);
  // moby validateCapabilities: the names a start would refuse, refused now
  for (const [field, names] of [['CapAdd', hc.CapAdd], ['CapDrop', hc.CapDrop]] as const) {
    for (const cap of names ?? []) {
      try {
        normalizeCapability(cap);
      } catch (err) {
        throw new InvalidParameterError(`invalid ${field}: ${(err as Error).message}`);
      }
    }
  }
  // the resource fields are the update body's, with the same limits (moby verifyPlatformContainerResources)
  validateResourceUpdate(parseResourceUpdate(hc), undefined, { MemorySwappiness: typeof hc.MemorySwappiness === 'number' ? hc.MemorySwappiness : null });
  for (const dest of Object.keys(record(hc.Tmpfs))) {
    if (!dest.startsWith('/')) throw new InvalidParameterError(`invalid mount path: '${dest}' mount path must be absolute`);
    if (dest === '/') throw new InvalidParameterError(`invalid specification: destination can't be '/'`);
  }
  for (const u of ulimits(hc)) {
    if (!ULIMIT_NAMES.has(u.name)) throw new InvalidParameterError(`invalid ulimit type: ${u.name}`);
    if (u.soft > u.hard && u.hard !== -1) {
      throw new InvalidParameterError(`invalid ulimit argument: ${u.name}=${u.soft}:${u.hard}: soft limit must be less than or equal to hard limit`);
    }
  }
  if (num(hc.ShmSize) < 0) throw new InvalidParameterError('SHM size can not be less than 0');
  const ipc = namespaceMode(hc.IpcMode);
  if (ipc.kind === 'other' && !['', 'private', 'shareable', 'none'].includes(ipc.value)) {
    throw new InvalidParameterError(`invalid IPC mode: ${ipc.value}`);
  }
  if (ipc.kind === 'container' && !ipc.value) throw new InvalidParameterError(`invalid IPC mode: ${str(hc.IpcMode)}`);
  const pid = namespaceMode(hc.PidMode);
  if ((pid.kind === 'other' && pid.value !== '') || (pid.kind === 'container' && !pid.value)) {
    throw new InvalidParameterError(`invalid PID mode: ${str(hc.PidMode)}`);
  }
  const uts = namespaceMode(hc.UTSMode);
  if (uts.kind !== 'host' && uts.value !== '') throw new InvalidParameterError(`invalid UTS mode: ${str(hc.UTSMode)}`);
  if (uts.kind === 'host' && config.Hostname) throw new InvalidParameterError('conflicting options: hostname and the UTS mode');
  const oomScoreAdj = num(hc.OomScoreAdj);
  if (oomScoreAdj < -1000 || oomScoreAdj > 1000) throw new InvalidParameterError(`Invalid value ${oomScoreAdj}, range for oom score adj is [-1000, 1000]`);
  const cgroupns = str(hc.CgroupnsMode);
  if (!['', 'host', 'private'].includes(cgroupns)) throw new InvalidParameterError(`invalid cgroup namespace mode: ${cgroupns}`);
  for (const [key] of Object.entries(record(hc.Sysctls))) validateSysctl(key, hc);
  // host-gateway is resolved at start (etc-files.ts), where the default bridge's gateway is known
  for (const h of list<string>(hc.ExtraHosts)) parseExtraHost(str(h));
  for (const ip of list<string>(hc.Dns)) {
    if (!isIp(str(ip))) throw new InvalidParameterError(`${str(ip)} is not an ip address`);
  }
  for (const d of deviceMappings(hc)) {
    if (!d.PathOnHost) throw new InvalidParameterError('device mapping needs a path on the host');
    if (!d.PathInContainer.startsWith('/')) throw new InvalidParameterError(`${d.PathInContainer} is not an absolute path`);
    if (!/^[rwm]{1,3}$/.test(d.CgroupPermissions)) throw new InvalidParameterError(`invalid device cgroup permissions: ${d.CgroupPermissions}`);
  }
  for (const rule of list<string>(hc.DeviceCgroupRules)) parseDeviceCgroupRule(str(rule));
}

/** runc refuses a sysctl the container does not own a namespace for; say so before it does. */
function validateSysctl(key: string, hc: HostConfig): void {
  const ipcShared = namespaceMode(hc.IpcMode).kind !== 'other';
  if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) {
    if (ipcShared) throw new InvalidParameterError(`sysctl "${key}" not allowed with a shared IPC namespace`);
    return;
  }
  if (key.startsWith('net.')) {
    if (hc.NetworkMode === 'host') throw new InvalidParameterError(`sysctl "${key}" not allowed in host network namespace`);
    return;
  }
  if (key === 'kernel.domainname' || key === 'kernel.hostname') {
    if (namespaceMode(hc.UTSMode).kind === 'host') throw new InvalidParameterError(`sysctl "${key}" not allowed in host UTS namespace`);
    return;
  }
  throw new InvalidParameterError(`sysctl "${key}" is not in a separate kernel namespace`);
}

/** What a start looked up for hostSpecOptions: the init binary, device nodes, donor processes. */
export interface StartFacts {
  /** Host path of the init binary, when HostConfig.Init asks for one. */
  initPath?: string;
  /** HostConfig.Devices resolved on the host (path = the path in the container), with their cgroup access. */
  devices: { device: OciDevice; access: string }[];
  /** Every host device node, for a privileged container (its cgroup allows all devices). */
  hostDevices?: OciDevice[];
  /** The pid of the container whose IPC / PID namespace is joined. */
  ipcDonorPid?: number;
  /** Host path of the /dev/shm tmpfs to bind: this container's own (shareable) or its IPC donor's. */
  shm?: string;
  pidDonorPid?: number;
}

export type HostSpecOptions = Pick<
  SpecInput,
  | 'args' | 'binds' | 'tmpfs' | 'shmSize' | 'ulimits' | 'sysctls' | 'devices' | 'deviceRules' | 'ipcHost' | 'pidHost'
  | 'utsHost' | 'namespacePaths' | 'noShm' | 'oomScoreAdj'
>;

/** HostConfig -> the spec fields it decides; `argv` is the container's command, `binds` its bind mounts. */
export function hostSpecOptions(hc: HostConfig, argv: string[], binds: BindMount[], facts: StartFacts): HostSpecOptions {
  const ipc = namespaceMode(hc.IpcMode);
  const pid = namespaceMode(hc.PidMode);
  const extraBinds: BindMount[] = [];
  let args = argv;
  if (hc.Init === true && facts.initPath) {
    // tini (Docker's docker-init) and catatonit both take the command after `--`.
    extraBinds.push({ source: facts.initPath, destination: INIT_PATH_IN_CONTAINER, readonly: true });
    args = [INIT_PATH_IN_CONTAINER, '--', ...argv];
  }
  // A shared IPC namespace comes with the /dev/shm that goes with it (moby setupIpcDirs).
  if (ipc.kind === 'host') extraBinds.push({ source: '/dev/shm', destination: '/dev/shm', readonly: false });
  if (facts.shm) extraBinds.push({ source: facts.shm, destination: '/dev/shm', readonly: false });
  const deviceRules: DeviceRule[] = [
    ...facts.devices.map(({ device, access }) => ({ allow: true, type: device.type, major: device.major, minor: device.minor, access })),
    ...list<string>(hc.DeviceCgroupRules).map((r) => parseDeviceCgroupRule(str(r))),
  ];
  const namespacePaths: SpecInput['namespacePaths'] = {};
  if (ipc.kind === 'container' && facts.ipcDonorPid) namespacePaths.ipc = `/proc/${facts.ipcDonorPid}/ns/ipc`;
  if (pid.kind === 'container' && facts.pidDonorPid) namespacePaths.pid = `/proc/${facts.pidDonorPid}/ns/pid`;
  const tmpfs = record(hc.Tmpfs);
  const sysctls = record(hc.Sysctls);
  return {
    args,
    binds: [...binds, ...extraBinds],
    tmpfs: Object.keys(tmpfs).length ? { ...tmpfs } : undefined,
    shmSize: num(hc.ShmSize) || undefined,
    ulimits: ulimits(hc),
    sysctls: Object.keys(sysctls).length ? { ...sysctls } : undefined,
    devices: [...(facts.hostDevices ?? []), ...facts.devices.map((d) => d.device)],
    deviceRules,
    ipcHost: ipc.kind === 'host',
    pidHost: pid.kind === 'host',
    utsHost: namespaceMode(hc.UTSMode).kind === 'host',
    namespacePaths,
    noShm: ipc.value === 'none' && ipc.kind === 'other',
    // moby's WithOOMScore: the process' own value (runc writes it before the user's command runs)
    oomScoreAdj: num(hc.OomScoreAdj) || undefined,
  };
}
