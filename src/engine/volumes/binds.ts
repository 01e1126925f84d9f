import { InvalidParameterError } from '../../errors.js';
import type { BindMount, MountPropagation } from '../../runtime/oci-spec.js';

const PROPAGATIONS = new Set<string>(['shared', 'slave', 'private', 'rshared', 'rslave', 'rprivate']);

/** HostConfig.Binds entries: `/host:/ctr[:ro|rw|z|Z|<propagation>[,...]]`. */
export function parseBind(spec: string): BindMount {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) {
    throw new InvalidParameterError(`invalid volume specification: '${spec}'`);
  }
  const [source, destination, mode = ''] = parts;
  if (!destination.startsWith('/')) {
    throw new InvalidParameterError(`invalid volume specification: '${spec}': invalid mount config for type "bind": invalid mount path: '${destination}' mount path must be absolute`);
  }
  if (destination === '/') {
    throw new InvalidParameterError(`invalid volume specification: '${spec}': invalid mount config for type "bind": invalid specification: destination can't be '/'`);
  }
  if (!source.startsWith('/')) {
    // Named volumes arrive with the volumes milestone; until then say so plainly.
    throw new InvalidParameterError(`invalid volume specification: '${spec}': named volumes are not supported by berth yet`);
  }
  let readonly = false;
  let propagation: MountPropagation | undefined;
  for (const opt of mode ? mode.split(',') : []) {
    if (opt === 'ro') readonly = true;
    else if (opt === 'rw' || opt === 'z' || opt === 'Z' || opt === 'nocopy') continue;
    else if (PROPAGATIONS.has(opt)) propagation = opt as MountPropagation;
    else throw new InvalidParameterError(`invalid mode: ${opt}`);
  }
  return { source, destination, readonly, propagation };
}
