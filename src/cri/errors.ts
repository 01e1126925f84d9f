// The one place where berth's typed errors become gRPC status codes. Handlers throw the errors of
// src/errors.ts as every engine layer does; containerd's errdefs mapping is the model.
//   NotFoundError          -> NOT_FOUND
//   InvalidParameterError  -> INVALID_ARGUMENT
//   ConflictError          -> FAILED_PRECONDITION (a state conflict: "container is running",
//                              "image is in use"; an existing name is ALREADY_EXISTS via CriAlreadyExistsError)
//   NotModifiedError       -> FAILED_PRECONDITION (CRI has no "already in that state"; stop and
//                              remove handlers answer OK themselves, as the spec asks)
//   UnauthorizedError      -> UNAUTHENTICATED,  ForbiddenError -> PERMISSION_DENIED
//   NotImplementedError    -> UNIMPLEMENTED,    UnavailableError -> UNAVAILABLE
//   an aborted call        -> CANCELLED, or DEADLINE_EXCEEDED when the client's deadline passed
//   anything else          -> UNKNOWN with the message (a SystemError's text is meant for users)
import { status } from '@grpc/grpc-js';
import {
  ConflictError,
  ForbiddenError,
  InvalidParameterError,
  NotFoundError,
  NotImplementedError,
  NotModifiedError,
  UnauthorizedError,
  UnavailableError,
  errorMessage,
} from '../errors.js';

/** A name already taken (CreateContainer/RunPodSandbox of a duplicate name): ALREADY_EXISTS. */
export class CriAlreadyExistsError extends ConflictError {
  override name = 'CriAlreadyExistsError';
}

export interface GrpcFailure {
  code: status;
  details: string;
}

export function grpcStatusOf(err: unknown, opts: { deadlinePassed?: boolean; cancelled?: boolean } = {}): GrpcFailure {
  const details = errorMessage(err);
  // A handler may throw a grpc-js style error ({code, details}) on purpose: it passes through.
  const e = err as { code?: unknown; details?: unknown };
  if (typeof e?.code === 'number' && e.code >= 0 && e.code <= 16 && typeof e.details === 'string') return { code: e.code as status, details: e.details };
  if (opts.deadlinePassed) return { code: status.DEADLINE_EXCEEDED, details: details || 'deadline exceeded' };
  if (opts.cancelled || (err as Error)?.name === 'AbortError') return { code: status.CANCELLED, details: details || 'cancelled' };
  return { code: codeOf(err), details };
}

function codeOf(err: unknown): status {
  if (err instanceof CriAlreadyExistsError) return status.ALREADY_EXISTS;
  if (err instanceof NotFoundError) return status.NOT_FOUND;
  if (err instanceof InvalidParameterError) return status.INVALID_ARGUMENT;
  if (err instanceof ConflictError) return status.FAILED_PRECONDITION;
  if (err instanceof NotModifiedError) return status.FAILED_PRECONDITION;
  if (err instanceof UnauthorizedError) return status.UNAUTHENTICATED;
  if (err instanceof ForbiddenError) return status.PERMISSION_DENIED;
  if (err instanceof NotImplementedError) return status.UNIMPLEMENTED;
  if (err instanceof UnavailableError) return status.UNAVAILABLE;
  return status.UNKNOWN;
}
