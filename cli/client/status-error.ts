/** A failure that sets the exit code, as the docker CLI's cli.StatusError (a failed build step). */
export class StatusError extends Error {
  override name = 'StatusError';
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}
