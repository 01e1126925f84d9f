// Placeholder networking until netavark arrives: `none` for everything but `host`.
import { InvalidParameterError, NotFoundError } from '../../errors.js';
import type { ContainerRecord } from '../containers/model.js';
import type { ContainerNetworking, NetworkAttachment } from './types.js';

export class NetworkService implements ContainerNetworking {
  async prepareCreate(rec: ContainerRecord): Promise<void> {
    const networkMode = rec.hostConfig.NetworkMode || 'default';
    if (!['default', 'bridge', 'none', 'host'].includes(networkMode)) {
      if (networkMode.startsWith('container:')) throw new InvalidParameterError(`network mode ${networkMode} is not supported by berth yet`);
      throw new NotFoundError(`network ${networkMode} not found`);
    }
    rec.hostConfig.NetworkMode = networkMode === 'default' ? 'none' : networkMode === 'bridge' ? 'none' : networkMode;
  }

  async abandonCreate(): Promise<void> {}

  async setUp(c: ContainerRecord): Promise<NetworkAttachment> {
    const hostNetwork = c.hostConfig.NetworkMode === 'host';
    return { network: hostNetwork ? { mode: 'host' } : { mode: 'none' }, etc: {} };
  }

  async release(): Promise<void> {}

  async renamed(): Promise<void> {}

  async removed(): Promise<void> {}

  async recover(): Promise<void> {}
}
