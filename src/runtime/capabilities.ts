// Linux capability sets the way Docker computes them (moby daemon/pkg/oci/caps).
import { readFileSync } from 'node:fs';
import { InvalidParameterError } from '../errors.js';

/** Capability names indexed by their kernel number (linux/capability.h). */
const CAPABILITY_NAMES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

/** Docker's default set, in Docker's order (what `docker inspect` and the spec show). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

let hostCapabilities: string[] | undefined;

/** Every capability this kernel knows (like moby's GetAllCapabilities), read once. */
export function allCapabilities(): string[] {
  if (!hostCapabilities) {
    let last = CAPABILITY_NAMES.length - 1;
    try {
      last = Math.min(last, Number.parseInt(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'), 10));
    } catch {
      // keep the compiled-in list
    }
    hostCapabilities = CAPABILITY_NAMES.slice(0, last + 1);
  }
  return [...hostCapabilities];
}

const KNOWN = new Set<string>(CAPABILITY_NAMES);

/** `net_admin`, `NET_ADMIN` and `CAP_NET_ADMIN` all name CAP_NET_ADMIN; `ALL` stays `ALL`. */
export function normalizeCapability(name: string): string {
  const upper = name.toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!KNOWN.has(full)) throw new InvalidParameterError(`unknown capability: "${full}"`);
  if (!allCapabilities().includes(full)) {
    throw new InvalidParameterError(
      `capability not supported by your kernel or not available in the current environment: "${full}"`,
    );
  }
  return full;
}

/** The capability list for a container, exactly as moby's caps.TweakCapabilities computes it. */
export function effectiveCapabilities(opts: { privileged?: boolean; capAdd?: string[]; capDrop?: string[] }): string[] {
  if (opts.privileged) return allCapabilities();
  if (!opts.capAdd?.length && !opts.capDrop?.length) return [...DEFAULT_CAPABILITIES];
  const drops = (opts.capDrop ?? []).map(normalizeCapability);
  const adds = (opts.capAdd ?? []).map(normalizeCapability);
  if (adds.includes('ALL')) return allCapabilities().filter((cap) => !drops.includes(cap));
  if (drops.includes('ALL')) return adds;
  return [...DEFAULT_CAPABILITIES.filter((cap) => !drops.includes(cap)), ...adds];
}

/**
 * Capabilities the kernel knows but this process' bounding set lacks (a VM or an outer container
 * that withholds some): a container asking for every capability cannot start here, and the
 * runtime's "unable to apply caps: operation not permitted" alone does not say why.
 */
export function missingBoundingCapabilities(): string[] {
  let mask: bigint;
  try {
    const line = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (!line) return [];
    mask = BigInt(`0x${line[1]}`);
  } catch {
    return [];
  }
  return allCapabilities().filter((_, bit) => (mask & (1n << BigInt(bit))) === 0n);
}

/** The runtime's error, with the missing capabilities named when that is what failed. */
export function explainCapabilityFailure(message: string, wantsAll: boolean): string {
  if (!wantsAll || !/apply caps|operation not permitted/i.test(message)) return message;
  const missing = missingBoundingCapabilities();
  if (!missing.length) return message;
  return `${message} (every capability was asked for, and this host's capability bounding set lacks ${missing.join(', ')})`;
}
