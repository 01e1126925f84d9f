// CRI mounts as bind mounts, the way containerd's CRI plugin makes them: a missing host path is
// created as a directory, a symlinked one is resolved, and propagation PRIVATE /
// HOST_TO_CONTAINER / BIDIRECTIONAL become rprivate / rslave / rshared binds.
import { mkdir, realpath, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { InvalidParameterError, errorMessage } from '../../errors.js';
import type { BindMount, MountPropagation } from '../../runtime/oci-spec.js';
import type { CriMount, MountPropagationName } from './cri-types.js';

const PROPAGATION: Record<MountPropagationName, MountPropagation> = {
  PROPAGATION_PRIVATE: 'rprivate',
  PROPAGATION_HOST_TO_CONTAINER: 'rslave',
  PROPAGATION_BIDIRECTIONAL: 'rshared',
};

/** The bind a CRI mount asks for, host path as given (resolveHostPaths() settles it). */
export function bindFromCri(m: CriMount): BindMount {
  const destination = m.containerPath ?? '';
  const source = m.hostPath ?? '';
  if (!destination.startsWith('/')) throw new InvalidParameterError(`mount container path ${JSON.stringify(destination)} must be absolute`);
  if (!source.startsWith('/')) throw new InvalidParameterError(`mount host path ${JSON.stringify(source)} must be absolute`);
  // runc 1.1 has no recursive read-only mounts, and berth does not advertise them
  if (m.recursiveReadOnly) throw new InvalidParameterError('recursive read-only mounts are not supported by this runtime');
  const propagation = PROPAGATION[m.propagation ?? 'PROPAGATION_PRIVATE'];
  if (!propagation) throw new InvalidParameterError(`unknown mount propagation ${String(m.propagation)}`);
  return { source, destination: posix.normalize(destination), readonly: m.readonly === true, propagation };
}

/** The propagation name ContainerStatus echoes for a bind. */
export function criPropagation(p: MountPropagation | undefined): MountPropagationName {
  if (p === 'rshared' || p === 'shared') return 'PROPAGATION_BIDIRECTIONAL';
  if (p === 'rslave' || p === 'slave') return 'PROPAGATION_HOST_TO_CONTAINER';
  return 'PROPAGATION_PRIVATE';
}

/** containerd: create a missing host path as a directory, then resolve symlinks on the way. */
export async function resolveHostPath(path: string): Promise<string> {
  try {
    await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new InvalidParameterError(`failed to stat ${JSON.stringify(path)}: ${errorMessage(err)}`);
    await mkdir(path, { recursive: true, mode: 0o755 });
  }
  try {
    return await realpath(path);
  } catch (err) {
    throw new InvalidParameterError(`failed to resolve symlink ${JSON.stringify(path)}: ${errorMessage(err)}`);
  }
}
