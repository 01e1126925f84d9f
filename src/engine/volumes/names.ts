// Volume names as moby's local driver accepts them: they become a directory under
// <data-root>/volumes, so nothing that could climb out of it ('/', '..', a leading '.') passes.
import { randomBytes } from 'node:crypto';
import { InvalidParameterError } from '../../errors.js';

const RESTRICTED_CHARS = '[a-zA-Z0-9][a-zA-Z0-9_.-]';
const RESTRICTED_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** moby local Root.validateName, wrapped as the store does (`create NAME: ...`). */
export function validateVolumeName(name: string): void {
  if (name.length === 1) {
    throw new InvalidParameterError(`create ${name}: volume name is too short, names should be at least two alphanumeric characters`);
  }
  if (!RESTRICTED_NAME.test(name)) {
    throw new InvalidParameterError(
      `create ${name}: ${JSON.stringify(name)} includes invalid characters for a local volume name, only ${JSON.stringify(RESTRICTED_CHARS)} are allowed. If you intended to pass a host directory, use absolute path`,
    );
  }
}

/** Whether `name` could be a local volume's (lookups of anything else are a plain 404). */
export function isVolumeName(name: string): boolean {
  return RESTRICTED_NAME.test(name);
}

/** An anonymous volume's name: 64 hex digits, like a container ID (moby stringid). */
export function anonymousVolumeName(): string {
  return randomBytes(32).toString('hex');
}
