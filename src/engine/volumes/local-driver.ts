// The `local` driver's side on disk (moby daemon/volume/local): a volume is the directory
// <data-root>/volumes/NAME with its data in _data. With driver options (`type`, `o`, `device`:
// a tmpfs, an NFS share, `type=none,o=bind,device=/dir` as compose writes it) _data is a
// mountpoint, mounted while a container uses it and unmounted when none does.
import { execFile } from 'node:child_process';
import { mkdir, readdir, rename, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { InvalidParameterError, SystemError, errorMessage } from '../../errors.js';
import { isMountPoint } from '../../images/layers/snapshotter.js';
import { removeTree } from '../../util/in-root/dir-ops.js';

const run = promisify(execFile);

/** A volume dir being removed is renamed into this dir, under its own name (names never start with a dot). */
const TRASH = '.removing';

const VALID_OPTS = new Set(['type', 'o', 'device', 'size']);
// moby's mandatoryOpts, in a fixed order so the message does not depend on map order
const MANDATORY: [string, string[]][] = [
  ['device', ['type']],
  ['type', ['device']],
  ['o', ['device', 'type']],
];

/** moby local validateOpts (size needs a quota-capable filesystem, which berth does not set up). */
export function validateDriverOpts(name: string, opts: Record<string, string> | null): void {
  if (!opts || Object.keys(opts).length === 0) return;
  const fail = (msg: string) => new InvalidParameterError(`create ${name}: ${msg}`);
  for (const k of Object.keys(opts).sort()) if (!VALID_OPTS.has(k)) throw fail(`invalid option: ${JSON.stringify(k)}`);
  if ('size' in opts) throw fail('quota size requested but no quota support');
  for (const [opt, required] of MANDATORY) {
    if (!(opt in opts)) continue;
    for (const r of required) if (!(r in opts)) throw fail(`missing required option: ${JSON.stringify(r)}`);
  }
}

/** Whether the volume's _data is a mountpoint of its own (moby needsMount). */
export function needsMount(opts: Record<string, string> | null): boolean {
  return !!opts && (!!opts.device || !!opts.type);
}

export class LocalDriver {
  readonly root: string;

  constructor(dataRoot: string) {
    this.root = join(dataRoot, 'volumes');
  }

  /**
   * Makes the root; removes what removals cut short by a crash left (see detach) and returns
   * the names of those volumes, whose rows go too.
   */
  async init(): Promise<string[]> {
    await mkdir(this.root, { recursive: true, mode: 0o701 });
    const cutShort = await readdir(join(this.root, TRASH)).catch(() => [] as string[]);
    for (const name of cutShort) await removeTree(join(this.root, TRASH, name));
    return cutShort;
  }

  /** The volume dirs there are (the names of volumes on disk). */
  async names(): Promise<string[]> {
    return (await readdir(this.root, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  }

  /**
   * Removes a volume dir that holds nothing but the empty _data a create makes (a create cut
   * short before its row); rmdir never removes content, so one with data stays. True if gone.
   */
  async removeIfUnused(name: string): Promise<boolean> {
    try {
      await rmdir(this.dataPath(name)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      await rmdir(this.dir(name));
      return true;
    } catch {
      return false;
    }
  }

  dir(name: string): string {
    return join(this.root, name);
  }

  dataPath(name: string): string {
    return join(this.root, name, '_data');
  }

  async create(name: string): Promise<void> {
    await mkdir(this.dir(name), { recursive: true, mode: 0o701 });
    await mkdir(this.dataPath(name), { recursive: true, mode: 0o755 });
  }

  /** Mounts the options' filesystem on _data unless it is there already. */
  async mount(name: string, opts: Record<string, string>): Promise<void> {
    const path = this.dataPath(name);
    if (await isMountPoint(path)) return;
    if (!opts.device) throw new SystemError(`error while mounting volume '${path}': missing device in volume options`);
    const args = ['-t', opts.type || 'none'];
    if (opts.o) args.push('-o', opts.o);
    args.push('--', opts.device, path);
    try {
      await run('mount', args);
    } catch (err) {
      const stderr = ((err as { stderr?: string }).stderr ?? '').trim();
      // a password in o= (cifs) never reaches a client or the log
      const text = (stderr || errorMessage(err)).replace(/password=[^,\s]*/g, 'password=********');
      throw new SystemError(`error while mounting volume '${path}': failed to mount local volume: ${text}`);
    }
  }

  /** Unmounts _data if it is a mountpoint (stacked mounts peeled one by one). */
  async unmount(name: string): Promise<void> {
    const path = this.dataPath(name);
    for (let i = 0; i < 8 && (await isMountPoint(path)); i++) {
      try {
        await run('umount', [path]);
      } catch (err) {
        const stderr = ((err as { stderr?: string }).stderr ?? '').trim();
        if (/not mounted|no mount point/i.test(stderr)) return;
        throw new SystemError(`error unmounting volume ${name}: ${stderr || errorMessage(err)}`);
      }
    }
  }

  /** Removes the volume's directory; never while something is mounted on _data (it could be a host dir). */
  async remove(name: string): Promise<void> {
    await this.purge(await this.detach(name));
  }

  /**
   * The first step of a removal: the directory is renamed out of the volume's name, at once and
   * whole, so that a crash before purge() leaves no half-removed volume but a dot-named dir,
   * which init() removes (with the row) at the next start. Returns the renamed path.
   */
  async detach(name: string): Promise<string> {
    await this.unmount(name);
    if (await isMountPoint(this.dataPath(name))) throw new SystemError(`volume ${name} is still mounted`);
    const trash = join(this.root, TRASH, name);
    await mkdir(join(this.root, TRASH), { recursive: true, mode: 0o700 });
    // one a failed purge left under this name
    await removeTree(trash);
    try {
      await rename(this.dir(name), trash);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return trash;
  }

  /** The rest of a removal: the renamed directory goes. */
  async purge(trash: string): Promise<void> {
    // containers filled it: as deep as they liked, deeper than PATH_MAX where node's rm gives up
    await removeTree(trash);
  }
}
