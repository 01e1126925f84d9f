// What a CRI handler is: a plain async function from the decoded request to the response object.
// The gRPC plumbing (decoding, status codes, cancellation, logging) is server.ts's alone.

export type RuntimeRpcName =
  | 'Version' | 'RunPodSandbox' | 'StopPodSandbox' | 'RemovePodSandbox' | 'PodSandboxStatus' | 'ListPodSandbox'
  | 'CreateContainer' | 'StartContainer' | 'StopContainer' | 'RemoveContainer' | 'ListContainers' | 'ContainerStatus'
  | 'UpdateContainerResources' | 'ReopenContainerLog' | 'ExecSync' | 'Exec' | 'Attach' | 'PortForward'
  | 'ContainerStats' | 'ListContainerStats' | 'PodSandboxStats' | 'ListPodSandboxStats' | 'UpdateRuntimeConfig'
  | 'Status' | 'CheckpointContainer' | 'GetContainerEvents' | 'ListMetricDescriptors' | 'ListPodSandboxMetrics'
  | 'RuntimeConfig';

export type ImageRpcName = 'ListImages' | 'ImageStatus' | 'PullImage' | 'RemoveImage' | 'ImageFsInfo';

export interface CriCall {
  /** The RPC's name, for logs. */
  method: string;
  /** Aborted when the client cancels or its deadline passes: long work (a pull) stops with it. */
  signal: AbortSignal;
  /** The client's deadline, when it set one. */
  deadline?: Date;
}

// Requests and responses are the proto-loader objects (see proto.ts for their conventions).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CriHandler = (req: any, call: CriCall) => Promise<object>;
/** A server-streaming RPC (GetContainerEvents): each yielded object is one message. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CriStreamHandler = (req: any, call: CriCall) => AsyncIterable<object>;

export type RuntimeHandlers = Partial<Record<Exclude<RuntimeRpcName, 'GetContainerEvents'>, CriHandler>> & { GetContainerEvents?: CriStreamHandler };
export type ImageHandlers = Partial<Record<ImageRpcName, CriHandler>>;
