// What every CRI module is given: the engine below, the CRI settings, a logger, and the seams the
// pods and streaming modules fill in when they build their handlers.
import type { Logger } from 'pino';
import type { Engine } from '../engine/engine.js';
import type { CriConfig } from '../engine/system/cri-config.js';
import { NotFoundError } from '../errors.js';
import type { CriPull } from './images/pull.js';
import type { PodInfo, PodSandboxes } from './pods/types.js';

export type { CriConfig };

/** The streaming server as the RPC handlers see it; src/cri/streaming/ sets the real one. */
export interface StreamingServer {
  close(): Promise<void>;
}

export interface CriContext {
  engine: Engine;
  config: CriConfig;
  logger: Logger;
  /** Pod sandboxes: replaced by src/cri/pods/ when its handlers are built. */
  pods: PodSandboxes;
  /** Set by src/cri/streaming/ when it starts its server. */
  streaming?: StreamingServer;
  /** Pull as CRI does (per-registry mirrors): PullImage and the sandbox image. */
  pullImage: CriPull;
  /** The pod CIDR kubelet last sent with UpdateRuntimeConfig ('' until then). */
  podCidr: string;
  /** Work to finish at shutdown (after the gRPC server stops), in registration order. */
  onClose: (() => Promise<void> | void)[];
}

/** No pods: what the context holds until the pods module replaces it. */
export const NO_PODS: PodSandboxes = {
  get(id: string): PodInfo {
    throw new NotFoundError(`pod sandbox ${JSON.stringify(id)} not found`);
  },
  find: () => undefined,
  list: () => [],
  infraPid: () => 0,
};
