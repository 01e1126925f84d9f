// Changing the names of a container already in aardvark-dns (docker rename, a --link alias that
// appears or goes), without a netavark teardown/setup that would cut its network.
//
// aardvark-dns 1.4 reads one file per network in its config dir (netavark's aardvark.rs writes
// them): the first line is the gateway address(es) [space upstream servers], then one line per
// container: `<id> <ipv4,...> <ipv6,...> <name,alias,...>[ <dns servers,...>]`. SIGHUP makes
// it read them again. netavark holds an flock on `<config dir>/../aardvark.lock` while it adds
// entries; we take the same lock. (Its teardown edits without the lock: callers also run this
// on the same queue as their netavark calls.)
import { spawn } from 'node:child_process';
import { readdir, readFile, rename, writeFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const PID_FILE = 'aardvark.pid';
const LOCK_FILE = 'aardvark.lock';

/**
 * The file's text with the names field of `containerId`'s line replaced, or undefined when the
 * file has no such line (the container is not plumbed there).
 */
export function replaceNames(text: string, containerId: string, names: readonly string[]): string | undefined {
  if (names.length === 0) throw new Error('a container needs at least one name');
  let found = false;
  const lines = text.split('\n').map((line, i) => {
    if (i === 0 || line === '') return line;
    const parts = line.split(' ');
    if (parts.length < 4 || parts[0] !== containerId.toLowerCase()) return line;
    found = true;
    parts[3] = names.join(',');
    return parts.join(' ');
  });
  return found ? lines.join('\n') : undefined;
}

/** The names aardvark-dns has for a container on a network file's text (unit tests, checks). */
export function namesIn(text: string, containerId: string): string[] | undefined {
  for (const line of text.split('\n').slice(1)) {
    const parts = line.split(' ');
    if (parts.length >= 4 && parts[0] === containerId.toLowerCase()) return parts[3].split(',');
  }
  return undefined;
}

/**
 * Gives `containerId` exactly `names` in `network`'s file under `configDir` (aardvark-dns'
 * directory) and has aardvark-dns reload. Returns false when there is nothing to change (no
 * file, no line, the same names).
 */
export async function updateAardvarkNames(configDir: string, network: string, containerId: string, names: readonly string[]): Promise<boolean> {
  const file = join(configDir, network);
  const changed = await withAardvarkLock(configDir, async () => {
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (text === undefined) return false;
    const next = replaceNames(text, containerId, names);
    if (next === undefined || next === text) return false;
    // written beside the dir and renamed in: aardvark-dns takes every file in the dir for a
    // network, and must never read a half-written one
    const tmp = join(dirname(configDir), `.${basename(configDir)}-${network}.tmp`);
    try {
      await writeFile(tmp, next);
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return true;
  });
  if (changed) await reloadAardvark(configDir);
  return changed;
}

/**
 * The pid of the aardvark-dns serving `configDir`, if one runs: its pid file, checked against
 * /proc (a stale file must not make us signal whatever has that pid now; a zombie serves nothing).
 */
export async function aardvarkPid(configDir: string): Promise<number | undefined> {
  const pid = Number((await readFile(join(configDir, PID_FILE), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  const [stat, cmdline] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''), readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')]);
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  if (!stat.includes('(aardvark-dns)') || state === 'Z' || state === 'X') return undefined;
  return cmdline.split('\0').includes(configDir) ? pid : undefined;
}

/**
 * Starts aardvark-dns for `configDir` when it has records but nothing serves them (it was
 * killed, or died with the host's OOM killer): netavark starts it only when it adds entries.
 * aardvark-dns forks into the background and the command returns once it listens.
 */
export async function ensureAardvark(configDir: string, binary: string, port = 53): Promise<boolean> {
  const files = await readdir(configDir).catch(() => [] as string[]);
  if (!files.some((f) => f !== PID_FILE) || (await aardvarkPid(configDir)) !== undefined) return false;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(binary, ['--config', configDir, '-p', String(port), 'run'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    // 'exit', not 'close': the background aardvark-dns may keep the inherited stderr open
    child.on('exit', (code) => {
      child.stderr.destroy();
      if (code === 0) resolve();
      else reject(new Error(`aardvark-dns exited ${code}: ${err.trim().split('\n').filter((l) => !/syslog/.test(l)).join(' ')}`));
    });
  });
  return true;
}

/** SIGHUP to the aardvark-dns of `configDir`, if it runs. */
export async function reloadAardvark(configDir: string): Promise<void> {
  const pid = await aardvarkPid(configDir);
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGHUP');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Runs `fn` holding netavark's aardvark commit lock. Node has no flock(2): util-linux `flock`
 * holds it for us until we close its stdin.
 */
async function withAardvarkLock<T>(configDir: string, fn: () => Promise<T>): Promise<T> {
  const lockPath = join(configDir, '..', LOCK_FILE);
  const holder = spawn('flock', ['-x', lockPath, 'sh', '-c', 'echo locked; read _'], { stdio: ['pipe', 'pipe', 'pipe'] });
  holder.stdin.on('error', () => undefined);
  const exited = new Promise<number | null>((resolve) => holder.on('close', resolve));
  await new Promise<void>((resolve, reject) => {
    let err = '';
    holder.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    holder.stdout.setEncoding('utf8').once('data', () => resolve());
    holder.on('error', reject);
    holder.on('close', (code) => reject(new Error(`taking ${LOCK_FILE} failed (exit ${code}): ${err.trim()}`)));
  });
  try {
    return await fn();
  } finally {
    holder.stdin.end();
    await exited;
  }
}
