// Seccomp profiles: Docker/containers-common JSON (with includes/excludes by capability and
// architecture) converted to the OCI form for this machine, like moby's profiles/seccomp.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { InvalidParameterError, SystemError, errorMessage } from '../errors.js';

export const DEFAULT_SECCOMP_PROFILE_PATH = '/usr/share/containers/seccomp.json';

interface ProfileFilter {
  arches?: string[];
  caps?: string[];
  minKernel?: string;
}

interface ProfileSyscall {
  name?: string;
  names?: string[];
  action: string;
  args?: unknown[] | null;
  errnoRet?: number;
  includes?: ProfileFilter;
  excludes?: ProfileFilter;
}

interface Profile {
  defaultAction?: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] }[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: ProfileSyscall[];
}

export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: { names: string[]; action: string; errnoRet?: number; args?: unknown[] }[];
}

/** Node's process.arch -> libseccomp's native arch name (moby goToNative). */
const NODE_TO_NATIVE: Record<string, string> = {
  x64: 'amd64', ia32: 'x86', arm: 'arm', arm64: 'arm64', loong64: 'loong64', mips: 'mips',
  mipsel: 'mipsel', ppc: 'ppc', ppc64: 'ppc64le', riscv64: 'riscv64', s390: 's390', s390x: 's390x',
};
/** libseccomp native name -> SCMP_ARCH_* (moby nativeToSeccomp). */
const NATIVE_TO_SECCOMP: Record<string, string> = {
  x86: 'SCMP_ARCH_X86', amd64: 'SCMP_ARCH_X86_64', arm: 'SCMP_ARCH_ARM', arm64: 'SCMP_ARCH_AARCH64',
  loong64: 'SCMP_ARCH_LOONGARCH64', mips64: 'SCMP_ARCH_MIPS64', mips64n32: 'SCMP_ARCH_MIPS64N32',
  mipsel64: 'SCMP_ARCH_MIPSEL64', mipsle: 'SCMP_ARCH_MIPSEL', ppc: 'SCMP_ARCH_PPC', ppc64: 'SCMP_ARCH_PPC64',
  ppc64le: 'SCMP_ARCH_PPC64LE', riscv64: 'SCMP_ARCH_RISCV64', s390: 'SCMP_ARCH_S390', s390x: 'SCMP_ARCH_S390X',
};

const nativeArch = NODE_TO_NATIVE[process.arch] ?? process.arch;

function kernelAtLeast(min: string): boolean {
  const parse = (v: string) => v.split(/[.-]/).slice(0, 2).map((n) => Number.parseInt(n, 10) || 0);
  const [maj, minor] = parse(release());
  const [wantMaj, wantMinor] = parse(min);
  return maj! > wantMaj! || (maj === wantMaj && minor! >= wantMinor!);
}

function keep(call: ProfileSyscall, caps: ReadonlySet<string>): boolean {
  const ex = call.excludes;
  if (ex) {
    if (ex.arches?.includes(nativeArch)) return false;
    if (ex.caps?.some((c) => caps.has(c))) return false;
    if (ex.minKernel && kernelAtLeast(ex.minKernel)) return false;
  }
  const inc = call.includes;
  if (inc) {
    if (inc.arches?.length && !inc.arches.includes(nativeArch)) return false;
    if (inc.caps?.length && !inc.caps.every((c) => caps.has(c))) return false;
    if (inc.minKernel && !kernelAtLeast(inc.minKernel)) return false;
  }
  return true;
}

/** Convert a parsed profile for a process with the given bounding capabilities. */
export function convertSeccompProfile(profile: Profile, capabilities: readonly string[]): OciSeccomp | undefined {
  if (!profile.defaultAction && !profile.syscalls?.length) return undefined;
  if (profile.architectures?.length && profile.archMap?.length) {
    throw new InvalidParameterError(
      "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'",
    );
  }
  const out: OciSeccomp = { defaultAction: profile.defaultAction ?? 'SCMP_ACT_ALLOW' };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  const architectures = [...(profile.architectures ?? [])];
  const seccompArch = NATIVE_TO_SECCOMP[nativeArch];
  const mapped = profile.archMap?.find((a) => a.architecture === seccompArch);
  if (mapped) architectures.push(mapped.architecture, ...(mapped.subArchitectures ?? []));
  if (architectures.length) out.architectures = architectures;
  if (profile.flags?.length) out.flags = profile.flags;
  if (profile.listenerPath) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata) out.listenerMetadata = profile.listenerMetadata;

  const caps = new Set(capabilities);
  const syscalls: NonNullable<OciSeccomp['syscalls']> = [];
  for (const call of profile.syscalls ?? []) {
    if (call.name && call.names?.length) {
      throw new InvalidParameterError(
        "both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'",
      );
    }
    if (!keep(call, caps)) continue;
    const rule: NonNullable<OciSeccomp['syscalls']>[number] = {
      names: call.name ? [call.name] : [...(call.names ?? [])],
      action: call.action,
    };
    if (call.errnoRet !== undefined) rule.errnoRet = call.errnoRet;
    if (call.args?.length) rule.args = call.args;
    syscalls.push(rule);
  }
  out.syscalls = syscalls;
  return out;
}

/** Parse a user-supplied profile (`--security-opt seccomp=<json>`). */
export function parseSeccompProfile(json: string, capabilities: readonly string[]): OciSeccomp | undefined {
  let profile: Profile;
  try {
    profile = JSON.parse(json) as Profile;
  } catch (err) {
    throw new InvalidParameterError(`Decoding seccomp profile failed: ${errorMessage(err)}`);
  }
  return convertSeccompProfile(profile, capabilities);
}

let defaultProfilePath = DEFAULT_SECCOMP_PROFILE_PATH;
let defaultProfile: Profile | undefined;
// Start latency matters: a converted profile is ~20 KB of JSON; build it once per capability set.
const convertedDefaults = new Map<string, OciSeccomp | undefined>();

/** Point the default profile somewhere else (daemon option `seccomp-profile`); clears caches. */
export function setDefaultSeccompProfilePath(path: string): void {
  defaultProfilePath = path;
  defaultProfile = undefined;
  convertedDefaults.clear();
}

function loadDefaultProfile(): Profile {
  if (!defaultProfile) {
    try {
      // Read once, at the first container start; later starts hit the cache.
      defaultProfile = JSON.parse(readFileSync(defaultProfilePath, 'utf8')) as Profile;
    } catch (err) {
      throw new SystemError(`loading default seccomp profile ${defaultProfilePath}: ${errorMessage(err)}`);
    }
  }
  return defaultProfile;
}

/** The default profile converted for this capability set. Callers must not mutate the result. */
export function defaultSeccomp(capabilities: readonly string[]): OciSeccomp | undefined {
  const key = [...capabilities].sort().join(',');
  if (!convertedDefaults.has(key)) {
    convertedDefaults.set(key, convertSeccompProfile(loadDefaultProfile(), capabilities));
  }
  return convertedDefaults.get(key);
}
