// What the v4 remotecommand error stream carries: one metav1.Status as JSON (k8s.io/apimachinery
// field names). The client reads the stream to EOF and turns a Failure into an error; for
// NonZeroExitCode it parses the ExitCode cause's message as the exit code.

export interface MetaStatus {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes: { reason: string; message: string }[] };
}

export function successStatus(): MetaStatus {
  return { metadata: {}, status: 'Success' };
}

/** The status for an exit code: Success for 0, NonZeroExitCode with the code otherwise. */
export function exitStatus(code: number, cmd: string[] = []): MetaStatus {
  if (code === 0) return successStatus();
  return {
    metadata: {},
    status: 'Failure',
    // kubelet's wording: the exec error it wraps names the command and the code
    message: `command terminated with non-zero exit code: error executing command [${cmd.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** Any other failure: the client shows the message as the error. */
export function failureStatus(message: string): MetaStatus {
  return { metadata: {}, status: 'Failure', message };
}
