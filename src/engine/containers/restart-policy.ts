// moby's restartmanager: whether a container that exited is started again, and after how long.
import type { RestartPolicy } from './model.js';

/** Back-off starts at 100 ms and doubles up to a minute; a run of 10 s or more resets it. */
export const BACKOFF_START_MS = 100;
export const BACKOFF_MAX_MS = 60_000;
const RESET_AFTER_MS = 10_000;

export interface ExitFacts {
  policy: RestartPolicy;
  exitCode: number;
  restartCount: number;
  manuallyStopped: boolean;
  /** How long the run that just ended lasted. */
  ranMs: number;
  /** The delay used before the previous restart (0 when none). */
  previousDelayMs: number;
}

/** The delay before restarting, or null when the policy says the container stays stopped. */
export function restartDelay(f: ExitFacts): number | null {
  if (f.manuallyStopped) return null;
  let restart = false;
  switch (f.policy.Name) {
    case 'always':
    case 'unless-stopped':
      restart = true;
      break;
    case 'on-failure': {
      const max = f.policy.MaximumRetryCount;
      restart = f.exitCode !== 0 && (max === 0 || f.restartCount < max);
      break;
    }
    default:
      restart = false;
  }
  if (!restart) return null;
  const base = f.ranMs >= RESET_AFTER_MS ? 0 : f.previousDelayMs;
  return base === 0 ? BACKOFF_START_MS : Math.min(base * 2, BACKOFF_MAX_MS);
}

/** On daemon start: which stopped containers come back (dockerd's restore). */
export function restartsWithDaemon(policy: RestartPolicy, exitCode: number, manuallyStopped: boolean): boolean {
  switch (policy.Name) {
    case 'always':
      // Docker: "if it is manually stopped, it is restarted only when the daemon restarts".
      return true;
    case 'unless-stopped':
      return !manuallyStopped;
    case 'on-failure':
      return !manuallyStopped && exitCode !== 0;
    default:
      return false;
  }
}
