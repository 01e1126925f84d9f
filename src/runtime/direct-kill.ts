// moby's killProcessDirectly: when the shim does not report a SIGKILLed container's exit in time
// (a starved machine, a stopped or stuck conmon), the daemon SIGKILLs the container's processes
// itself and waits until they are gone. The init of a PID namespace takes every process of the
// namespace with it, and becomes a zombie only once they are all gone; the processes listed in
// the container's cgroup are killed too, for a container sharing the host's PID namespace.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** The process' state letter (R, S, D, Z...), or null when there is no such process. */
export async function procState(pid: number): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // the command may hold spaces and parentheses: it ends at the last ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

/** Gone for good: no such process, or a zombie (which a signal cannot touch and only its parent reaps). */
async function isGone(pid: number): Promise<boolean> {
  const state = await procState(pid);
  return state === null || state === 'Z' || state === 'X';
}

/** Whether `pid` is a member of the cgroup at `cgroupPath` (a recycled PID is not). */
async function inCgroup(pid: number, cgroupPath: string): Promise<boolean> {
  try {
    const text = await readFile(`/proc/${pid}/cgroup`, 'utf8');
    return text.split('\n').some((line) => line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1) === cgroupPath);
  } catch {
    return false;
  }
}

/** PIDs in the container's cgroup: the unified hierarchy, or the first v1 hierarchy that has it. */
async function cgroupPids(cgroupPath: string): Promise<number[]> {
  const hierarchies = await readdir(CGROUP_ROOT).catch(() => [] as string[]);
  const candidates = hierarchies.includes('cgroup.procs') ? [CGROUP_ROOT] : ['pids', 'memory', 'freezer'].map((h) => join(CGROUP_ROOT, h));
  for (const h of candidates) {
    try {
      const text = await readFile(join(h, cgroupPath, 'cgroup.procs'), 'utf8');
      return text.split('\n').filter((l) => l !== '').map(Number);
    } catch {
      // not in this hierarchy
    }
  }
  return [];
}

function sigkill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    // ESRCH: gone already, which is the goal
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * SIGKILLs the container's init (when `initPid` still names a process of its cgroup) and every
 * process of its cgroup, then waits until the init is gone. Resolves false when it is still there
 * after `timeoutMs` (a process stuck in the kernel).
 */
export async function killContainerDirectly(initPid: number, cgroupPath: string, timeoutMs: number): Promise<boolean> {
  const pids = await cgroupPids(cgroupPath);
  const init = initPid > 0 && !(await isGone(initPid)) && (await inCgroup(initPid, cgroupPath)) ? initPid : 0;
  if (init) sigkill(init);
  for (const pid of pids) if (pid > 0 && pid !== init) sigkill(pid);
  if (!init) return true;
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  while (!(await isGone(init))) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 50);
  }
  return true;
}
