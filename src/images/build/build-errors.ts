// A step that failed with an exit code: moby sends it as a JSONError with that code, which the
// CLI turns into its own exit status.
export class BuildStepError extends Error {
  override name = 'BuildStepError';
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}
