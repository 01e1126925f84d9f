// A container's mount points, decided at create as moby's registerMountPoints and
// createContainerVolumesOS do: --volumes-from first, then -v (Binds), then --mount (Mounts), each
// later one replacing an earlier one at the same destination (two of -v/--mount there are a
// "Duplicate mount point"), and last an anonymous volume for each Config.Volumes path (`-v /p`,
// the image's VOLUME) that nothing else covers.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameterError, NotFoundError } from '../../errors.js';
import type { ContainerRecord } from '../containers/model.js';
import type { MountPoint } from './model.js';
import { cleanTarget, parseApiMount, parseBindSpec, parseVolumesFrom, type ParsedMount } from './mount-spec.js';
import type { CreateVolumeRequest } from './service.js';
import { containerMountPoints } from './view.js';
import { wrongFieldType } from '../go-json.js';

export interface MountPointContext {
  dataRoot: string;
  /** moby's GetContainer: ID, name, or unique ID prefix. */
  container(ref: string): ContainerRecord;
  /** Creates (or finds) a volume for this container; its name and host path. */
  volume(spec: CreateVolumeRequest): Promise<{ name: string; source: string }>;
  /** Another container's volume this one mounts too (--volumes-from): it must exist. */
  shareVolume(name: string): void;
}

export async function registerMountPoints(rec: ContainerRecord, ctx: MountPointContext): Promise<MountPoint[]> {
  const hc = rec.hostConfig;
  const points = new Map<string, MountPoint>();
  const tmpfs = isRecord(hc.Tmpfs) ? hc.Tmpfs : {};
  const volumeDriver = typeof hc.VolumeDriver === 'string' ? hc.VolumeDriver : '';
  const volumesFrom = hc.VolumesFrom ?? [];
  if (!Array.isArray(volumesFrom)) throw wrongFieldType('HostConfig.VolumesFrom', volumesFrom, '[]string');
  const notString = volumesFrom.find((v) => typeof v !== 'string');
  if (notString !== undefined) throw wrongFieldType('HostConfig.VolumesFrom', notString, 'string');
  const bindNearRoot = (p: ParsedMount) => {
    if (p.mount.Type === 'bind') p.mount.Propagation = daemonRootPropagation(ctx.dataRoot, p.mount.Source, p.askedPropagation ?? '') ?? p.mount.Propagation;
  };
  const makeVolume = async (p: ParsedMount) => {
    const spec = p.volume!;
    const made = await ctx.volume({ name: spec.name, driver: spec.driver, options: spec.options, labels: spec.labels });
    p.mount.Name = made.name;
    p.mount.Source = made.source;
  };

  // 1. --volumes-from: the other container's mounts, read-only if asked
  for (const spec of volumesFrom as string[]) {
    const { container, rw } = parseVolumesFrom(spec);
    // moby wraps the lookup as a bad parameter: a 404 would make the CLI try to pull the image
    let donor: ContainerRecord;
    try {
      donor = ctx.container(container);
    } catch (err) {
      throw err instanceof NotFoundError ? new InvalidParameterError(err.message) : err;
    }
    for (const m of containerMountPoints(donor)) {
      if (m.Type === 'volume') ctx.shareVolume(m.Name!);
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
    throw wrongFieldType('HostConfig.Mounts', mounts, '[]mount.Mount');
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
    const invalid = (msg: string) => new InvalidParameterError(`invalid volume specification: '${path}': invalid mount config for type "volume": ${msg}`);
    if (!path.startsWith('/')) throw invalid(`invalid mount path: '${path}' mount path must be absolute`);
    const destination = cleanTarget(path);
    if (destination === '/') throw invalid("invalid specification: destination can't be '/'");
    if (points.has(destination) || destination in tmpfs) continue;
    if (rec.cri) {
      // containerd's CRI keeps an image's VOLUMEs as the container's own dirs (filled from the
      // image, gone with the container), not as volumes in Docker's list, prune and events
      if (rec.cri.mounts?.some((m) => cleanTarget(m.destination) === destination)) continue;
      points.set(destination, criImageVolume(ctx.dataRoot, rec.id, destination));
      continue;
    }
    const p: ParsedMount = {
      // moby's AddMountPointWithVolume: no mode at all, not even 'z'
      mount: { Type: 'volume', Name: '', Source: '', Destination: destination, Driver: 'local', Mode: '', RW: true, Propagation: '', CopyData: true, Named: false },
      volume: { name: '', driver: volumeDriver || 'local', options: null, labels: null },
      rawTarget: path,
    };
    await makeVolume(p);
    points.set(destination, p.mount);
  }
  return [...points.values()];
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

/** Where a CRI container's image VOLUME lives: its bundle dir (removed with the container). */
function criImageVolume(dataRoot: string, id: string, destination: string): MountPoint {
  const dir = createHash('sha256').update(destination).digest('hex').slice(0, 16);
  return { Type: 'bind', Source: join(dataRoot, 'containers', id, 'volumes', dir), Destination: destination, Mode: '', RW: true, Propagation: '', CopyData: true };
}

function isRecord(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
