// Picking a manifest list / index entry for a platform, as containerd's platforms.Only does
// for moby's pull: arm64 means arm64/v8 (an entry without a variant is v8 too), arm means
// arm/v7; an asked variant must match, no asked variant takes the best entry.
import type { Descriptor, Platform } from './registry-client.js';

function normalized(p: { os?: string; architecture?: string; variant?: string }): Platform {
  const os = (p.os ?? '').toLowerCase();
  const architecture = (p.architecture ?? '').toLowerCase();
  let variant = p.variant?.toLowerCase() || undefined;
  if (architecture === 'arm64' && (variant === undefined || variant === '8')) variant = 'v8';
  if (architecture === 'arm' && variant === undefined) variant = 'v7';
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

/** moby's formatPlatform of the normalised platform: 'linux/arm64/v8', 'linux/amd64'. */
export function formatPlatform(p: Platform): string {
  const n = normalized(p);
  return [n.os, n.architecture, n.variant].filter(Boolean).join('/');
}

/** The entry to pull for `want`, or undefined when none fits. */
export function matchPlatform(entries: Descriptor[], want: Platform): Descriptor | undefined {
  const w = normalized(want);
  const fits = entries.filter((m) => {
    if (m === null || typeof m !== 'object' || m.platform === undefined || m.platform === null) return false;
    const e = normalized(m.platform);
    if (e.os !== w.os || e.architecture !== w.architecture) return false;
    return want.variant === undefined && w.variant === undefined ? true : e.variant === w.variant || (want.variant === undefined && e.variant === undefined);
  });
  return fits[0];
}
