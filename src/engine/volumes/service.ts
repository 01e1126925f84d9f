// Volumes and mounts: the `local` driver's volumes (named and anonymous), the mount points a
// container gets at create, the copy-up at create, what a start mounts, and the volume API.
// A volume is in use while any container record names it (moby's references), or while a
// create that names it has not yet stored its row.
import { dirname, join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import { ConflictError, NotFoundError, SystemError, errorMessage } from '../../errors.js';
import { dirSize } from '../../images/layers/dir-size.js';
import { isMountPoint } from '../../images/layers/snapshotter.js';
import type { BindMount, MountPropagation } from '../../runtime/oci-spec.js';
import { KeyedLock } from '../../util/keyed-lock.js';
import type { ContainerRecord } from '../containers/model.js';
import type { EventBus } from '../events/bus.js';
import { copyUp } from './copy-up.js';
import { LocalDriver, needsMount, validateDriverOpts } from './local-driver.js';
import { ANONYMOUS_LABEL, type MountPoint, type VolumeRecord } from './model.js';
import { registerMountPoints } from './mount-points.js';
import { anonymousVolumeName, validateVolumeName } from './names.js';
import { VolumeStore } from './store.js';
import type { ContainerVolumes, StartMounts } from './types.js';
import { containerMountPoints, volumeView, type VolumeUsage } from './view.js';
import { filterVolumes, pruneCandidates, type VolumeFilters } from './filters.js';
import { faultPoint } from '../../util/fault-point.js';

export interface VolumeServiceDeps {
  db: Database;
  dataRoot: string;
  events: EventBus;
  logger: Logger;
  /** The container records (the service is built before ContainerService: called lazily). */
  containers: { get(ref: string): ContainerRecord; list(): ContainerRecord[] };
}

export interface CreateVolumeRequest {
  name: string;
  driver: string;
  options: Record<string, string> | null;
  labels: Record<string, string> | null;
}

function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

export class VolumeService implements ContainerVolumes {
  private readonly store: VolumeStore;
  readonly driver: LocalDriver;
  /** Per volume: create, mount, unmount and remove never interleave. */
  private readonly lock = new KeyedLock();
  /** Creates between prepareCreate and their row: container ID -> volume names it holds. */
  private readonly pending = new Map<string, Set<string>>();
  /** Anonymous volumes a create made, removed if the create fails. */
  private readonly madeFor = new Map<string, string[]>();
  /** Volume -> the containers whose task has it mounted (driver-option mounts follow this). */
  private readonly active = new Map<string, Set<string>>();
  private pruning = false;

  private constructor(private readonly d: VolumeServiceDeps) {
    this.store = new VolumeStore(d.db);
    this.driver = new LocalDriver(d.dataRoot);
  }

  static async open(d: VolumeServiceDeps): Promise<VolumeService> {
    const s = new VolumeService(d);
    // removals a crash cut short between renaming the dir away and the row
    for (const name of await s.driver.init()) s.store.delete(name);
    // creates cut short between the dir and the row: the volume never was
    for (const name of await s.driver.names()) {
      if (s.store.get(name) || (await s.driver.removeIfUnused(name))) continue;
      d.logger.warn({ volume: name }, 'a directory in the volumes dir that is no volume, with content: left alone');
    }
    return s;
  }

  // ---- the volume API ----

  async create(req: CreateVolumeRequest, ref?: string, madeFor?: string): Promise<VolumeRecord> {
    const name = req.name || anonymousVolumeName();
    const driver = req.driver || 'local';
    if (driver !== 'local') {
      throw new NotFoundError(`create ${name}: error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    }
    validateVolumeName(name);
    validateDriverOpts(name, req.options);
    return this.lock.run(name, async () => {
      const existing = this.store.get(name);
      if (existing) {
        if (ref) this.addPending(ref, name);
        return existing;
      }
      // empty maps read back as null, as moby's metadata store gives them
      const given = (m: Record<string, string> | null) => (m && Object.keys(m).length > 0 ? m : null);
      const labels = req.name ? given(req.labels) : { ...(req.labels ?? {}), [ANONYMOUS_LABEL]: '' };
      const rec: VolumeRecord = { name, driver, labels, options: given(req.options), created: isoSeconds(new Date()), anonymous: !req.name, ...(madeFor ? { madeFor } : {}) };
      try {
        await this.driver.create(name);
        faultPoint('volume-create.after-dir');
        this.store.insert(rec);
      } catch (err) {
        await this.driver.remove(name).catch(() => undefined);
        throw new SystemError(`create ${name}: ${errorMessage(err)}`);
      }
      if (ref) this.addPending(ref, name);
      this.d.events.emit('volume', 'create', name, { driver });
      return rec;
    });
  }

  inspect(name: string) {
    const v = this.store.get(name);
    if (!v) throw new NotFoundError(`get ${name}: no such volume`);
    return volumeView(v, this.driver.dataPath(v.name));
  }

  list(filters: VolumeFilters) {
    const counts = this.refCounts();
    const vols = filterVolumes(this.store.all(), filters, (n) => counts.get(n) ?? 0);
    return { Volumes: vols.map((v) => volumeView(v, this.driver.dataPath(v.name))), Warnings: null };
  }

  async remove(name: string, force: boolean): Promise<void> {
    await this.lock.run(name, async () => {
      const v = this.store.get(name);
      if (!v) {
        if (force) return;
        throw new NotFoundError(`get ${name}: no such volume`);
      }
      const refs = this.refsOf(name);
      if (refs.length > 0) throw new ConflictError(`remove ${name}: volume is in use - [${refs.join(', ')}]`);
      await this.destroy(v);
    });
  }

  /** Under the volume's lock, unused: its mount, directory and row go. */
  private async destroy(v: VolumeRecord): Promise<void> {
    let trash: string;
    try {
      trash = await this.driver.detach(v.name);
    } catch (err) {
      throw new SystemError(`remove ${v.name}: ${errorMessage(err)}`);
    }
    faultPoint('volume-rm.after-rename');
    this.store.delete(v.name);
    this.active.delete(v.name);
    this.d.events.emit('volume', 'destroy', v.name, { driver: v.driver });
    // the row is gone: a dir left by a crash here is init()'s
    await this.driver.purge(trash).catch((err) => this.d.logger.warn({ err, volume: v.name }, 'removing a volume dir failed'));
  }

  /** POST /volumes/prune: unused local volumes without driver options (anonymous ones unless all=true). */
  async prune(filters: VolumeFilters): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    if (this.pruning) throw new ConflictError('a prune operation is already running');
    this.pruning = true;
    try {
      const report = { VolumesDeleted: [] as string[], SpaceReclaimed: 0 };
      for (const v of pruneCandidates(this.store.all(), filters)) {
        await this.lock.run(v.name, async () => {
          if (this.store.get(v.name) !== v || this.refsOf(v.name).length > 0) return;
          const size = await dirSize(this.driver.dataPath(v.name)).catch(() => 0);
          try {
            await this.destroy(v);
          } catch (err) {
            this.d.logger.warn({ err, volume: v.name }, 'could not remove volume');
            return;
          }
          report.SpaceReclaimed += size;
          report.VolumesDeleted.push(v.name);
          faultPoint('prune.after-volume');
        });
      }
      this.d.events.emit('volume', 'prune', '', { reclaimed: String(report.SpaceReclaimed) });
      return report;
    } finally {
      this.pruning = false;
    }
  }

  /** `docker system df`: local volumes without driver options, with their size and users. */
  async usage() {
    const out: ReturnType<typeof volumeView>[] = [];
    const counts = this.refCounts();
    for (const v of this.store.all()) {
      if (v.options && Object.keys(v.options).length > 0) continue;
      const size = await dirSize(this.driver.dataPath(v.name)).catch(() => -1);
      const usage: VolumeUsage = { Size: size, RefCount: counts.get(v.name) ?? 0 };
      out.push(volumeView(v, this.driver.dataPath(v.name), usage));
    }
    return out;
  }

  /** IDs of the containers that name the volume (moby's references). */
  private refsOf(name: string): string[] {
    const ids = new Set<string>();
    for (const c of this.d.containers.list()) {
      if (c.mountPoints?.some((m) => m.Type === 'volume' && m.Name === name)) ids.add(c.id);
    }
    for (const [id, names] of this.pending) if (names.has(name)) ids.add(id);
    return [...ids];
  }

  /** Volume name -> how many containers name it, from one walk of the containers (list and df ask for every volume). */
  private refCounts(): Map<string, number> {
    const users = new Map<string, Set<string>>();
    const add = (name: string, id: string) => users.set(name, (users.get(name) ?? new Set<string>()).add(id));
    for (const c of this.d.containers.list()) {
      for (const m of c.mountPoints ?? []) if (m.Type === 'volume' && m.Name) add(m.Name, c.id);
    }
    for (const [id, names] of this.pending) for (const name of names) add(name, id);
    return new Map([...users].map(([name, ids]) => [name, ids.size]));
  }

  private addPending(id: string, name: string): void {
    const set = this.pending.get(id) ?? new Set<string>();
    set.add(name);
    this.pending.set(id, set);
  }

  // ---- ContainerVolumes: the container lifecycle's side ----

  async prepareCreate(rec: ContainerRecord): Promise<void> {
    const made: string[] = [];
    this.madeFor.set(rec.id, made);
    rec.mountPoints = await registerMountPoints(rec, {
      dataRoot: this.d.dataRoot,
      container: (ref) => this.d.containers.get(ref),
      volume: async (spec) => {
        const created = await this.create(spec, rec.id, spec.name ? undefined : rec.id);
        if (!spec.name) made.push(created.name);
        return { name: created.name, source: this.driver.dataPath(created.name) };
      },
      shareVolume: (name) => {
        if (!this.store.get(name)) throw new NotFoundError(`get ${name}: no such volume`);
        this.addPending(rec.id, name);
      },
    });
  }

  created(rec: ContainerRecord): void {
    for (const name of this.madeFor.get(rec.id) ?? []) this.store.clearMadeFor(name);
  }

  async abandonCreate(rec: ContainerRecord): Promise<void> {
    this.pending.delete(rec.id);
    const made = this.madeFor.get(rec.id) ?? [];
    this.madeFor.delete(rec.id);
    for (const name of made) {
      await this.remove(name, true).catch((err) => this.d.logger.warn({ err, volume: name }, 'removing the anonymous volume of a failed create failed'));
    }
  }

  async populate(rec: ContainerRecord, rootfs: () => Promise<string>): Promise<void> {
    let root: string | undefined;
    for (const m of containerMountPoints(rec)) {
      if (m.Type === 'bind' && m.CopyData && rec.cri) {
        // a CRI container's image VOLUME (mount-points.ts): its own dir, filled as a volume is
        await mkdir(m.Source, { recursive: true, mode: 0o755 });
        try {
          await copyUp(async () => (root ??= await rootfs()), m.Destination, m.Source, `${m.Source}.copy-up-partial`);
        } catch (err) {
          throw new SystemError(`failed to populate volume: ${errorMessage(err)}`);
        }
        continue;
      }
      if (m.Type !== 'volume' || !m.CopyData) continue;
      const name = m.Name!;
      const path = this.driver.dataPath(name);
      const user = `populate:${rec.id}`;
      let held = false;
      try {
        await this.lock.run(name, async () => {
          const v = this.store.get(name);
          if (!v) return;
          // a volume with driver options is copied into where its content lives: its mount
          if (needsMount(v.options)) {
            await this.hold(v, user);
            held = true;
          }
          try {
            // a volume with content is never copied into (and the rootfs not mounted for it)
            await copyUp(async () => (root ??= await rootfs()), m.Destination, path, join(dirname(path), '.copy-up-partial'));
          } catch (err) {
            throw new SystemError(`failed to populate volume: ${errorMessage(err)}`);
          }
        });
      } finally {
        if (held) await this.letGo(name, user, false);
      }
    }
  }

  async mountsForStart(c: ContainerRecord): Promise<StartMounts> {
    // the row exists now: it holds the references a create's pending entry held
    this.pending.delete(c.id);
    this.madeFor.delete(c.id);
    const out: StartMounts = { binds: [], tmpfs: {} };
    try {
      for (const m of containerMountPoints(c)) {
        if (m.Type === 'tmpfs') {
          out.tmpfs[m.Destination] = m.Tmpfs ?? '';
          continue;
        }
        if (m.Type === 'bind') {
          // -v creates a missing host directory, as Docker does; --mount does not
          if (!m.SkipCreate) await mkdir(m.Source, { recursive: true, mode: 0o755 }).catch(() => undefined);
          out.binds.push(bindOf(m, m.Source));
          continue;
        }
        out.binds.push(bindOf(m, await this.mountVolume(c, m)));
      }
    } catch (err) {
      await this.released(c);
      throw err;
    }
    return out;
  }

  /** Mounts a volume for a starting container (driver options), says so (copy-up was at create). */
  private async mountVolume(c: ContainerRecord, m: MountPoint): Promise<string> {
    const name = m.Name!;
    const path = this.driver.dataPath(name);
    await this.lock.run(name, async () => {
      const v = this.store.get(name);
      if (!v) throw new NotFoundError(`error while mounting volume '${path}': get ${name}: no such volume`);
      await this.hold(v, c.id);
      this.d.events.emit('volume', 'mount', name, {
        container: c.id,
        destination: m.Destination,
        driver: v.driver,
        propagation: m.Propagation,
        'read/write': String(m.RW),
      });
    });
    return path;
  }

  async holdForCopy(c: ContainerRecord): Promise<() => Promise<void>> {
    const user = `copy:${c.id}:${anonymousVolumeName().slice(0, 8)}`;
    const held: string[] = [];
    const release = async () => {
      for (const name of held) await this.letGo(name, user, false);
    };
    try {
      for (const name of new Set(containerMountPoints(c).filter((m) => m.Type === 'volume').map((m) => m.Name!))) {
        await this.lock.run(name, async () => {
          const v = this.store.get(name);
          if (!v || !needsMount(v.options)) return;
          await this.hold(v, user);
          held.push(name);
        });
      }
    } catch (err) {
      await release();
      throw err;
    }
    return release;
  }

  async released(c: ContainerRecord): Promise<void> {
    const names = new Set(containerMountPoints(c).filter((m) => m.Type === 'volume').map((m) => m.Name!));
    for (const name of names) await this.letGo(name, c.id, true);
  }

  /** Under the volume's lock: `user` needs the volume's content, so one with driver options is mounted (until letGo). */
  private async hold(v: VolumeRecord, user: string): Promise<void> {
    if (needsMount(v.options)) await this.driver.mount(v.name, v.options!);
    this.active.set(v.name, (this.active.get(v.name) ?? new Set<string>()).add(user));
  }

  /** `user` no longer needs the volume: unmounted (driver options) once nobody does. */
  private async letGo(name: string, user: string, container: boolean): Promise<void> {
    await this.lock
      .run(name, async () => {
        const users = this.active.get(name);
        if (users?.delete(user) && container) {
          this.d.events.emit('volume', 'unmount', name, { container: user, driver: this.store.get(name)?.driver ?? 'local' });
        }
        if (users && users.size > 0) return;
        this.active.delete(name);
        const v = this.store.get(name);
        if (v && needsMount(v.options)) await this.driver.unmount(name);
      })
      .catch((err) => this.d.logger.warn({ err, volume: name, user }, 'unmounting a volume failed'));
  }

  async removed(c: ContainerRecord, volumes: boolean): Promise<void> {
    this.pending.delete(c.id);
    this.madeFor.delete(c.id);
    if (!volumes) return;
    for (const m of containerMountPoints(c)) {
      // named volumes stay (moby removes only mount points without a Spec.Source)
      if (m.Type !== 'volume' || m.Named) continue;
      await this.lock.run(m.Name!, async () => {
        const v = this.store.get(m.Name!);
        // the container itself may still have its row (a removal not yet finished)
        if (!v || this.refsOf(v.name).some((id) => id !== c.id)) return;
        await this.destroy(v);
      }).catch((err) => this.d.logger.warn({ err, volume: m.Name }, 'removing an anonymous volume failed'));
    }
  }

  async recover(running: ContainerRecord[]): Promise<void> {
    this.active.clear();
    // anonymous volumes of creates a crash cut short before their row (or before created())
    const known = new Set(this.d.containers.list().map((c) => c.id));
    for (const v of this.store.all()) {
      if (v.madeFor === undefined) continue;
      if (known.has(v.madeFor)) this.store.clearMadeFor(v.name);
      else await this.lock.run(v.name, () => this.destroy(v)).catch((err) => this.d.logger.warn({ err, volume: v.name }, 'removing the volume of a create cut short failed'));
    }
    for (const c of running) {
      for (const m of containerMountPoints(c)) {
        if (m.Type !== 'volume') continue;
        const users = this.active.get(m.Name!) ?? new Set<string>();
        users.add(c.id);
        this.active.set(m.Name!, users);
      }
    }
    // a mount whose containers all exited while the daemon was down
    for (const v of this.store.all()) {
      if (!needsMount(v.options) || this.active.has(v.name)) continue;
      if (await isMountPoint(this.driver.dataPath(v.name))) {
        await this.driver.unmount(v.name).catch((err) => this.d.logger.warn({ err, volume: v.name }, 'unmounting an unused volume failed'));
      }
    }
  }
}

function bindOf(m: MountPoint, source: string): BindMount {
  return {
    source,
    destination: m.Destination,
    readonly: !m.RW,
    propagation: (m.Propagation || undefined) as MountPropagation | undefined,
    ...(m.NonRecursive ? { nonRecursive: true } : {}),
  };
}
