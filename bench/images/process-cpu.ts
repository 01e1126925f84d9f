/**
 * CPU time a daemon has used, from /proc/<pid>/stat: user + system of all its threads (berth's
 * unpack workers are threads) plus that of the children it has waited for (dockerd re-executes
 * itself as docker-untar per layer). On a machine others load, wall times are noisy; the CPU a
 * daemon spends per operation is the honest figure.
 */
import { readFile } from 'node:fs/promises';

// USER_HZ: the unit of /proc/<pid>/stat's times; 100 on every Linux architecture node supports
const TICKS_PER_SECOND = 100;

/** Milliseconds of CPU used by `pid`, its threads and its reaped children. */
export async function processCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // fields after the command name, which is in parentheses and may hold spaces or ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime, stime, cutime, cstime are fields 14-17 of the line, 12-15 counted from the state (3)
  const ticks = fields.slice(11, 15).reduce((n, f) => n + Number(f), 0);
  return (ticks * 1000) / TICKS_PER_SECOND;
}
