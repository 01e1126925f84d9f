// The engine: everything dockerd does below its HTTP layer, assembled from the stores and services.
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { accessSync, chmodSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { Logger } from 'pino';
import { ImageService } from '../images/image-service.js';
import { Snapshotter } from '../images/layers/snapshotter.js';
import { ConmonBackend } from '../runtime/conmon-backend.js';
import type { RuntimeHandler } from '../runtime/task-backend.js';
import { ContainerStore } from './containers/store.js';
import { ContainerService } from './containers/service.js';
import { RegistryConfig } from '../images/distribution/registry-config.js';
import type { DaemonConfig } from './system/daemon-config.js';
import { DataRootLock } from './system/data-root-lock.js';
import { EventBus } from './events/bus.js';
import { HealthMonitor } from './monitoring/health.js';
import { ExecService } from './exec/service.js';
import { systemInfo, versionInfo } from './system/info.js';
import { NetworkService } from './networks/service.js';
import { NetworkStore } from './networks/store.js';
import { NetavarkBackend } from '../runtime/netavark/netavark.js';
import { VolumeService } from './volumes/service.js';
import { ContainerArchive } from './archive/container-archive.js';
import { BuildService } from './build/build-service.js';

export class Engine {
  readonly startedAt = new Date();

  private constructor(
    readonly config: DaemonConfig,
    readonly engineId: string,
    readonly events: EventBus,
    readonly logger: Logger,
    private readonly lock: DataRootLock,
    /** The one SQLite connection; front ends with tables of their own (the CRI's pods) use it too. */
    readonly db: Database.Database,
    readonly images: ImageService,
    readonly containers: ContainerService,
    private readonly backend: ConmonBackend,
    /** Networks and endpoints: the /networks routes call it. */
    readonly networks: NetworkService,
    readonly volumes: VolumeService,
  ) {
    this.execs = new ExecService({ containers, backend, events, logger: logger.child({ layer: 'exec' }) });
    this.health = new HealthMonitor(containers, this.execs, events, logger.child({ layer: 'health' }));
    this.archive = new ContainerArchive(containers);
    this.builds = new BuildService(db, images, containers, config.dataRoot, logger.child({ layer: 'build' }));
  }

  /** docker build (the classic builder) and its layer cache. */
  readonly builds: BuildService;

  private readonly health: HealthMonitor;

  /** docker exec instances (in memory, like dockerd's). */
  readonly execs: ExecService;
  /** docker cp: the archive endpoints. */
  readonly archive: ContainerArchive;

  static async open(config: DaemonConfig, logger: Logger): Promise<Engine> {
    mkdirSync(config.dataRoot, { recursive: true, mode: 0o710 });
    // Image layers (setuid binaries included) sit under it with their own modes: the data-root's
    // mode is what keeps other users out, so it is enforced on an existing dir too (CVE-2021-41091).
    chmodSync(config.dataRoot, 0o710);
    mkdirSync(config.execRoot, { recursive: true, mode: 0o700 });
    mkdirSync(join(config.dataRoot, 'containers'), { recursive: true, mode: 0o710 });
    const lock = DataRootLock.acquire(config.dataRoot);
    const db = new Database(join(config.dataRoot, 'berth.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const runtimes = resolveRuntimes(config.runtimes);
    const registry = new RegistryConfig({ mirrors: config.registryMirrors, insecureRegistries: config.insecureRegistries });
    const images = new ImageService({ db, root: config.dataRoot, logger: logger.child({ layer: 'images' }), registry });
    const snapshots = new Snapshotter({ root: config.dataRoot, images, logger: logger.child({ layer: 'images' }) });
    const backend = new ConmonBackend({ execRoot: config.execRoot, logger: logger.child({ layer: 'runtime' }) });
    const store = new ContainerStore(db);
    await images.reconcileContainerLayers(store.all().map((c) => ({ id: c.id, imageId: c.imageId })));
    const events = new EventBus();
    const networking = new NetworkService({
      store: new NetworkStore(db),
      backend: new NetavarkBackend({ configDir: join(config.execRoot, 'netavark') }),
      events,
      logger: logger.child({ layer: 'networks' }),
      execRoot: config.execRoot,
      bridgeName: config.bridge,
      bip: config.bip,
      mtu: config.mtu,
      pools: config.defaultAddressPools,
    });
    const volumes = await VolumeService.open({
      db,
      dataRoot: config.dataRoot,
      events,
      logger: logger.child({ layer: 'volumes' }),
      // called only once the services exist (at create, for --volumes-from and references)
      containers: { get: (ref) => containers.get(ref), list: () => store.all() },
    });
    const containers = new ContainerService({
      store,
      images,
      snapshots,
      backend,
      events,
      logger: logger.child({ layer: 'engine' }),
      dataRoot: config.dataRoot,
      runtimes,
      defaultRuntime: config.defaultRuntime,
      networking,
      volumes,
    });
    // every container, the CRI's too (containers.list() is Docker's view): start-up forgets the
    // endpoints of containers it does not know, and a pod's infra container has some
    networking.bindContainers({ get: (ref) => containers.get(ref), list: () => store.all(), lock: containers.lock, bundleDir: (id) => containers.bundleDir(id) });
    await networking.init();
    const engine = new Engine(config, engineId(config.dataRoot), events, logger, lock, db, images, containers, backend, networking, volumes);
    images.onEvent((e) => events.emit('image', e.action, e.id, { name: e.name }));
    await containers.recover();
    engine.health.resume();
    return engine;
  }

  info() {
    return systemInfo({
      id: this.engineId,
      containers: this.containers.list(),
      imageCount: this.images.list().length,
      dataRoot: this.config.dataRoot,
      execRoot: this.config.execRoot,
      runtimes: this.config.runtimes,
      defaultRuntime: this.config.defaultRuntime,
      startedAt: this.startedAt,
      registryConfig: this.images.registry.view(),
      hosts: this.config.hosts,
    });
  }

  version() {
    return versionInfo();
  }

  /** Daemon shutdown: containers keep running under their shims; the next start reconciles them. */
  async close(): Promise<void> {
    this.health.close();
    await this.networks.close();
    await this.backend.close();
    this.db.close();
    this.lock.release();
  }
}

/** dockerd keeps a stable engine ID per data-root (its `engine-id` file); so does berth. */
function engineId(dataRoot: string): string {
  const path = join(dataRoot, 'engine-id');
  try {
    const id = readFileSync(path, 'utf8').trim();
    if (id) return id;
  } catch {
    // first start on this data-root
  }
  const id = randomUUID();
  writeFileSync(path, `${id}\n`);
  return id;
}

function resolveRuntimes(runtimes: Record<string, RuntimeHandler>): Record<string, RuntimeHandler> {
  const out: Record<string, RuntimeHandler> = {};
  for (const [name, r] of Object.entries(runtimes)) out[name] = { ...r, path: which(r.path) ?? r.path };
  return out;
}

function which(bin: string): string | undefined {
  if (isAbsolute(bin)) return bin;
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/local/sbin', '/usr/sbin', '/sbin']);
  for (const d of dirs) {
    const p = join(d, bin);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return undefined;
}
