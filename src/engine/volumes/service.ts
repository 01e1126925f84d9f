// Volumes and mounts: the `local` driver's volumes (named and anonymous), the mount points a
// container gets at create, what a start mounts (copy-up included), and the volume API.
// A volume is in use while any container record names it (moby's references), or while a
// create that names it has not yet stored its row.
import type { Database } from 'better-sqlite3';
import { mkdir, stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { ConflictError, InvalidParameterError, NotFoundError, SystemError, errorMessage } from '../../errors.js';
import { dirSize } from '../../images/dir-size.js';
import { isMountPoint } from '../../images/snapshotter.js';
import type { BindMount, MountPropagation } from '../../runtime/oci-spec.js';
import { KeyedLock } from '../../util/keyed-lock.js';
import type { ContainerRecord } from '../containers/model.js';
import type { EventBus } from '../events/bus.js';
import { copyUp } from './copy-up.js';
import { LocalDriver, needsMount, validateDriverOpts } from './local-driver.js';
import { ANONYMOUS_LABEL, type MountPoint, type VolumeRecord } from './model.js';
import { cleanTarget, parseApiMount, parseBindSpec, parseVolumesFrom, type ParsedMount } from './mount-spec.js';
import { anonymousVolumeName, validateVolumeName } from './names.js';
import { VolumeStore } from './store.js';
import type { ContainerVolumes, StartMounts } from './types.js';
import { containerMountPoints, volumeView, type VolumeUsage } from './view.js';
import { filterVolumes, pruneCandidates, type VolumeFilters } from './filters.js';

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
    await s.driver.init();
    return s;
  }

  // ---- the volume API ----

  async create(req: CreateVolumeRequest, ref?: string): Promise<VolumeRecord> {
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
      const rec: VolumeRecord = { name, driver, labels, options: given(req.options), created: isoSeconds(new Date()), anonymous: !req.name };
      try {
        await this.driver.create(name);
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
    const vols = filterVolumes(this.store.all(), filters, (n) => this.refsOf(n).length);
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
    try {
      await this.driver.remove(v.name);
    } catch (err) {
      throw new SystemError(`remove ${v.name}: ${errorMessage(err)}`);
    }
    this.store.delete(v.name);
    this.active.delete(v.name);
    this.d.events.emit('volume', 'destroy', v.name, { driver: v.driver });
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
    for (const v of this.store.all()) {
      if (v.options && Object.keys(v.options).length > 0) continue;
      const size = await dirSize(this.driver.dataPath(v.name)).catch(() => -1);
      const usage: VolumeUsage = { Size: size, RefCount: this.refsOf(v.name).length };
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

  private addPending(id: string, name: string): void {
    const set = this.pending.get(id) ?? new Set<string>();
    set.add(name);
    this.pending.set(id, set);
  }

  // ---- ContainerVolumes: the container lifecycle's side ----

  async prepareCreate(rec: ContainerRecord): Promise<void> {
    const hc = rec.hostConfig;
    const points = new Map<string, MountPoint>();
    const tmpfs = isRecord(hc.Tmpfs) ? hc.Tmpfs : {};
    const volumeDriver = typeof hc.VolumeDriver === 'string' ? hc.VolumeDriver : '';
    const volumesFrom = hc.VolumesFrom ?? [];
    if (!Array.isArray(volumesFrom) || !volumesFrom.every((v) => typeof v === 'string')) {
      throw new InvalidParameterError(`json: cannot unmarshal ${Array.isArray(volumesFrom) ? 'array' : typeof volumesFrom} into Go struct field HostConfig.VolumesFrom of type []string`);
    }
    const made: string[] = [];
    this.madeFor.set(rec.id, made);
    const bindNearRoot = (p: ParsedMount) => {
      if (p.mount.Type === 'bind') p.mount.Propagation = daemonRootPropagation(this.d.dataRoot, p.mount.Source, p.askedPropagation ?? '') ?? p.mount.Propagation;
    };
    const makeVolume = async (p: ParsedMount) => {
      const spec = p.volume!;
      const created = await this.create(
        { name: spec.name, driver: spec.driver, options: spec.options, labels: spec.labels },
        rec.id,
      );
      if (!spec.name) made.push(created.name);
      p.mount.Name = created.name;
      p.mount.Source = this.driver.dataPath(created.name);
    };

    // 1. --volumes-from: the other container's mounts, read-only if asked
    for (const spec of volumesFrom as string[]) {
      const { container, rw } = parseVolumesFrom(spec);
      // moby wraps the lookup as a bad parameter: a 404 would make the CLI try to pull the image
      let donor: ContainerRecord;
      try {
        donor = this.d.containers.get(container);
      } catch (err) {
        throw err instanceof NotFoundError ? new InvalidParameterError(err.message) : err;
      }
      for (const m of containerMountPoints(donor)) {
        if (m.Type === 'volume') {
          if (!this.store.get(m.Name!)) throw new NotFoundError(`get ${m.Name}: no such volume`);
          this.addPending(rec.id, m.Name!);
        }
        points.set(m.Destination, { ...m, RW: m.RW && rw, CopyData: false });
      }
    }

    // 2. Binds (-v): a bind, a named volume or an anonymous one
    const bound = new Set<string>();
    for (const raw of hc.Binds ?? []) {
      const p = parseBindSpec(raw);
      bindNearRoot(p);
      // -v volumes take HostConfig.VolumeDriver (moby ParseMountRaw's volumeDriver)
      if (p.volume && volumeDriver) p.volume.driver = p.mount.Driver = volumeDriver;
      if (bound.has(p.mount.Destination) || p.mount.Destination in tmpfs) {
        throw new InvalidParameterError(`Duplicate mount point: ${p.mount.Destination}`);
      }
      if (p.mount.Type === 'volume') await makeVolume(p);
      bound.add(p.mount.Destination);
      points.set(p.mount.Destination, p.mount);
    }

    // 3. Mounts (--mount)
    const mounts = hc.Mounts as unknown;
    if (mounts !== undefined && mounts !== null && !Array.isArray(mounts)) {
      throw new InvalidParameterError('json: cannot unmarshal object into Go struct field HostConfig.Mounts of type []mount.Mount');
    }
    for (const raw of (mounts as unknown[] | null | undefined) ?? []) {
      const p = parseApiMount(raw);
      bindNearRoot(p);
      if (p.mustExist) {
        const exists = await stat(p.mount.Source).then(
          () => true,
          () => false,
        );
        if (!exists) throw new InvalidParameterError(`invalid mount config for type "bind": bind source path does not exist: ${p.mount.Source}`);
      }
      if (bound.has(p.mount.Destination)) throw new InvalidParameterError(`Duplicate mount point: ${p.rawTarget}`);
      if (p.mount.Type === 'volume') await makeVolume(p);
      bound.add(p.mount.Destination);
      points.set(p.mount.Destination, p.mount);
    }

    // 4. Config.Volumes (`-v /data`, the image's VOLUME): an anonymous volume where nothing else is
    for (const path of Object.keys(rec.config.Volumes ?? {})) {
      if (!path.startsWith('/')) {
        throw new InvalidParameterError(`invalid volume specification: '${path}': invalid mount config for type "volume": invalid mount path: '${path}' mount path must be absolute`);
      }
      const destination = cleanTarget(path);
      if (destination === '/') {
        throw new InvalidParameterError(`invalid volume specification: '${path}': invalid mount config for type "volume": invalid specification: destination can't be '/'`);
      }
      if (points.has(destination) || destination in tmpfs) continue;
      const p: ParsedMount = {
        mount: { Type: 'volume', Name: '', Source: '', Destination: destination, Driver: 'local', Mode: '', RW: true, Propagation: '', CopyData: true, Named: false },
        volume: { name: '', driver: volumeDriver || 'local', options: null, labels: null },
        rawTarget: path,
      };
      await makeVolume(p);
      points.set(destination, p.mount);
    }
    rec.mountPoints = [...points.values()];
  }

  async abandonCreate(rec: ContainerRecord): Promise<void> {
    this.pending.delete(rec.id);
    const made = this.madeFor.get(rec.id) ?? [];
    this.madeFor.delete(rec.id);
    for (const name of made) {
      await this.remove(name, true).catch((err) => this.d.logger.warn({ err, volume: name }, 'removing the anonymous volume of a failed create failed'));
    }
  }

  async mountsForStart(c: ContainerRecord, rootfs: string): Promise<StartMounts> {
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
        out.binds.push(bindOf(m, await this.mountVolume(c, m, rootfs)));
      }
    } catch (err) {
      await this.released(c);
      throw err;
    }
    return out;
  }

  /** Mounts a volume for a starting container (driver options), copies up, says so. */
  private async mountVolume(c: ContainerRecord, m: MountPoint, rootfs: string): Promise<string> {
    const name = m.Name!;
    const path = this.driver.dataPath(name);
    await this.lock.run(name, async () => {
      const v = this.store.get(name);
      if (!v) throw new NotFoundError(`error while mounting volume '${path}': get ${name}: no such volume`);
      const users = this.active.get(name) ?? new Set<string>();
      if (needsMount(v.options)) await this.driver.mount(name, v.options!);
      users.add(c.id);
      this.active.set(name, users);
      if (m.CopyData) {
        await copyUp(rootfs, m.Destination, path).catch((err: unknown) => {
          throw new SystemError(`failed to populate volume: ${errorMessage(err)}`);
        });
        // once per container, as moby copies at create
        m.CopyData = false;
      }
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
          await this.driver.mount(name, v.options!);
          this.active.set(name, (this.active.get(name) ?? new Set<string>()).add(user));
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
        if (!v || this.refsOf(v.name).length > 0) return;
        await this.destroy(v);
      }).catch((err) => this.d.logger.warn({ err, volume: m.Name }, 'removing an anonymous volume failed'));
    }
  }

  async recover(running: ContainerRecord[]): Promise<void> {
    this.active.clear();
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

/**
 * moby validateBindDaemonRoot: a bind of (or into) the data-root must not be private, or the
 * container's mount namespace would pin every overlay mounted there after it (rm's unmounts then
 * fail busy): rslave unless the client asked for rslave or rshared; anything else is refused.
 * Returns the propagation to use, or undefined when the rule does not apply.
 */
function daemonRootPropagation(root: string, source: string, asked: string): string | undefined {
  if (!source.startsWith(root) && !root.startsWith(source)) return undefined;
  if (asked === '') return 'rslave';
  if (asked === 'rslave' || asked === 'rshared') return asked;
  throw new InvalidParameterError(
    `invalid mount config: must use either propagation mode "rslave" or "rshared" when mount source is within the daemon root, daemon root: ${JSON.stringify(root)}, bind mount source: ${JSON.stringify(source)}, propagation: ${JSON.stringify(asked)}`,
  );
}

function isRecord(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
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
