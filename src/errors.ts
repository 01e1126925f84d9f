// One error class per Docker status. Every layer throws these; src/api/errors.ts is the only
// place that turns them into HTTP responses.

export class BerthError extends Error {
  override name = 'BerthError';
}
/** 404: the named object does not exist. */
export class NotFoundError extends BerthError {
  override name = 'NotFoundError';
}
/** 409: the request conflicts with the object's current state. */
export class ConflictError extends BerthError {
  override name = 'ConflictError';
}
/** 400: the request itself is malformed or names impossible values. */
export class InvalidParameterError extends BerthError {
  override name = 'InvalidParameterError';
}
/** 304: the request asks for a state the object is already in. */
export class NotModifiedError extends BerthError {
  override name = 'NotModifiedError';
}
/** 403 */
export class ForbiddenError extends BerthError {
  override name = 'ForbiddenError';
}
/** 401: the registry refused our credentials. */
export class UnauthorizedError extends BerthError {
  override name = 'UnauthorizedError';
}
/** 501 */
export class NotImplementedError extends BerthError {
  override name = 'NotImplementedError';
}
/** 503 */
export class UnavailableError extends BerthError {
  override name = 'UnavailableError';
}
/** 500: the system underneath failed (runc, conmon, mount...). Message is shown to the user. */
export class SystemError extends BerthError {
  override name = 'SystemError';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
