// top (moby daemon/top_unix.go): run the host's `ps` with the caller's arguments and keep the
// rows whose PID is in the container's cgroup.
import { execFile } from 'node:child_process';
import { ConflictError, InvalidParameterError, SystemError } from '../../errors.js';
import { TaskNotRunningError } from '../../runtime/task-errors.js';
import type { ContainerService } from '../containers/service.js';

export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

/** moby refuses ps format specifiers that rename the PID column (`-o user=PID`). */
export function validatePsArgs(psArgs: string): void {
  for (const m of psArgs.matchAll(/\s+(\S*)=\s*(PID\S*)/g)) {
    if (m[1] !== 'pid') throw new InvalidParameterError(`specifying "${m[1]}=${m[2]}" is not allowed`);
  }
}

/** ASCII-whitespace split (moby's fieldsASCII: unicode spaces stay inside fields). */
const fields = (line: string) => line.split(/[ \t\n\v\f\r]+/).filter(Boolean);

export function parsePsOutput(output: string, pids: number[]): TopResult {
  const lines = output.split('\n');
  const titles = fields(lines[0] ?? '');
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw new SystemError("Couldn't find PID field in ps output");
  const wanted = new Set(pids);
  const processes: string[][] = [];
  const row = (f: string[]) => [...f.slice(0, titles.length - 1), f.slice(titles.length - 1).join(' ')];
  // Thread lines (`ps -m`) have '-' as PID and belong to the process line above them.
  let previousKept = false;
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const f = fields(line);
    const pidField = f[pidIndex] ?? '';
    if (pidField === '-') {
      if (previousKept) processes.push(row(f));
      continue;
    }
    const pid = Number(pidField);
    if (!/^\d+$/.test(pidField)) throw new SystemError(`Unexpected pid '${pidField}': strconv.Atoi: parsing "${pidField}": invalid syntax`);
    previousKept = wanted.has(pid);
    if (previousKept) processes.push(row(f));
  }
  return { Titles: titles, Processes: processes };
}

function ps(args: string[]): Promise<{ ok: true; out: string } | { ok: false; err: string }> {
  return new Promise((resolve) => {
    execFile('ps', args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) resolve({ ok: false, err: stderr.split('\n')[0] || err.message });
      else resolve({ ok: true, out: stdout });
    });
  });
}

export async function topContainer(svc: ContainerService, ref: string, psArgsRaw: string | undefined): Promise<TopResult> {
  const psArgs = psArgsRaw || '-ef';
  validatePsArgs(psArgs);
  const c = svc.get(ref);
  if (c.state.Status === 'restarting') throw new ConflictError(`Container ${c.id} is restarting, wait until the container is running`);
  if (c.state.Status !== 'running' && c.state.Status !== 'paused') throw new TaskNotRunningError(c.id);
  // a container that exits from here on is a TaskNotRunningError from the backend: the same 409
  const pids = await svc.deps.backend.pids(c.id);
  const args = psArgs.split(' ').filter(Boolean);
  // `-q <pids>` makes ps read only the container's processes; some options (f) refuse it.
  let res = pids.length ? await ps([...args, '-q', pids.join(',')]) : await ps(args);
  if (!res.ok) res = await ps(args);
  if (!res.ok) throw new SystemError(`ps: ${res.err}`);
  const result = parsePsOutput(res.out, pids);
  svc.emit(c, 'top');
  return result;
}
