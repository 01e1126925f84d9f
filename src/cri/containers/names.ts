// Engine names of CRI containers: containerd's makeContainerName (container name, pod name, pod
// namespace, pod uid, attempt), so a second CreateContainer with the same metadata in the same pod
// is refused as kubelet expects. The `k8s_` prefix keeps them clear of names Docker users pick.
import { InvalidParameterError } from '../../errors.js';
import type { PodInfo } from '../pods/types.js';
import type { ContainerMetadata } from './cri-types.js';

export function criContainerName(meta: ContainerMetadata | undefined, pod: Pick<PodInfo, 'name' | 'namespace' | 'uid'>): string {
  const name = meta?.name ?? '';
  if (!name) throw new InvalidParameterError('container config must include metadata with a name');
  return ['k8s', name, pod.name, pod.namespace, pod.uid, String(meta?.attempt ?? 0)].join('_');
}
