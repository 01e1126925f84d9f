// The JSON shapes of GET /images/json and GET /images/{name}/json.
import { familiar } from '../images/reference.js';
import type { ImageRecord } from '../images/types.js';
import type { ImageListEntry } from './image-list.js';

function createdSeconds(img: ImageRecord): number {
  const t = Date.parse(img.config.created ?? img.storedAt);
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

export function imageListView(img: ImageRecord, containers: number) {
  return {
    Id: img.id,
    ParentId: '',
    RepoTags: img.repoTags.map(familiar),
    RepoDigests: img.repoDigests.map(familiar),
    Created: createdSeconds(img),
    Size: img.size,
    SharedSize: -1,
    Labels: img.config.config?.Labels ?? {},
    Containers: containers,
  };
}

/** What the API version changes in GET /images/json (moby 28's getImagesJSON). */
export interface ImageListCompat {
  /** API < 1.43: an untagged image lists `<none>:<none>` and `<none>@<none>`. */
  noneRefs?: boolean;
  /** API < 1.44: VirtualSize (= Size). */
  virtualSize?: boolean;
}

/** One GET /images/json entry, fields in the order of moby's image.Summary. Containers is -1: only system df counts. */
export function imageSummaryView(e: ImageListEntry, compat: ImageListCompat = {}) {
  const untagged = e.repoTags.length === 0 && e.repoDigests.length === 0;
  const none = compat.noneRefs && untagged;
  return {
    Containers: -1,
    Created: createdSeconds(e.image),
    Id: e.image.id,
    Labels: e.image.config.config?.Labels ?? null,
    ParentId: e.image.parent ?? '',
    RepoDigests: none ? ['<none>@<none>'] : e.repoDigests,
    RepoTags: none ? ['<none>:<none>'] : e.repoTags,
    SharedSize: e.sharedSize,
    Size: e.image.size,
    ...(compat.virtualSize ? { VirtualSize: e.image.size } : {}),
  };
}

/** What an older API version adds to GET /images/{name}/json (moby 28's getImagesByName). */
export interface ImageInspectCompat {
  /** API < 1.44: VirtualSize (= Size). */
  virtualSize?: boolean;
  /** API < 1.45: Container (omitted when empty) and ContainerConfig (docker-compose 1.29 reads ContainerConfig.Volumes). */
  containerConfig?: boolean;
  /** API < 1.50: Config carries container.Config's fields that the OCI config lacks (Hostname, Tty...). */
  legacyConfig?: boolean;
}

// moby's legacyConfigFields: Config is merged over these, so the keys are always present.
const CONFIG_DEFAULTS_CURRENT: Record<string, unknown> = {
  Cmd: null, Entrypoint: null, Env: null, Labels: null, OnBuild: null, User: '', Volumes: null, WorkingDir: '',
};
const CONFIG_DEFAULTS_V1_49: Record<string, unknown> = {
  ...CONFIG_DEFAULTS_CURRENT,
  AttachStderr: false, AttachStdin: false, AttachStdout: false, Domainname: '', Hostname: '', Image: '', OpenStdin: false, StdinOnce: false, Tty: false,
};

/** Config as moby 28 writes it: the image's config over the defaults, keys sorted (Go marshals a map). */
function configView(config: object | undefined, legacy: boolean): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...(legacy ? CONFIG_DEFAULTS_V1_49 : CONFIG_DEFAULTS_CURRENT), ...config };
  return Object.fromEntries(Object.keys(merged).sort().map((k) => [k, merged[k]]));
}

// Go's container.Config: the fields without omitempty, in struct order.
const CONTAINER_CONFIG_FIELDS: ReadonlyArray<readonly [string, unknown]> = [
  ['Hostname', ''], ['Domainname', ''], ['User', ''], ['AttachStdin', false], ['AttachStdout', false], ['AttachStderr', false],
  ['ExposedPorts', undefined], ['Tty', false], ['OpenStdin', false], ['StdinOnce', false], ['Env', null], ['Cmd', null],
  ['Healthcheck', undefined], ['ArgsEscaped', undefined], ['Image', ''], ['Volumes', null], ['WorkingDir', ''], ['Entrypoint', null],
  ['NetworkDisabled', undefined], ['MacAddress', undefined], ['OnBuild', null], ['Labels', null], ['StopSignal', undefined],
  ['StopTimeout', undefined], ['Shell', undefined],
];

/**
 * The image's container_config as moby's graphdriver image service returns it: a container.Config
 * value, so images without one (built by buildkit, imported, pulled OCI images) give an empty one.
 */
export function containerConfigView(raw: unknown): Record<string, unknown> {
  const src = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {};
  for (const [key, empty] of CONTAINER_CONFIG_FIELDS) {
    const v = src[key];
    const omitEmpty = empty === undefined;
    if (omitEmpty) {
      if (v !== undefined && v !== null && v !== false && v !== '' && v !== 0) out[key] = v;
    } else {
      out[key] = v ?? empty;
    }
  }
  return out;
}

export function imageInspectView(img: ImageRecord, compat: ImageInspectCompat = {}) {
  const created = img.config.created ?? img.storedAt;
  // fields a classic builder wrote into the config blob; the OCI config type does not name them
  const legacy = img.config as { container?: unknown; container_config?: unknown };
  return {
    Id: img.id,
    RepoTags: img.repoTags.map(familiar),
    RepoDigests: img.repoDigests.map(familiar),
    Parent: img.parent ?? '',
    Comment: img.config.history?.at(-1)?.comment ?? '',
    Created: created,
    ...(compat.containerConfig
      ? {
          ...(typeof legacy.container === 'string' && legacy.container ? { Container: legacy.container } : {}),
          ContainerConfig: containerConfigView(legacy.container_config),
        }
      : {}),
    DockerVersion: '',
    Author: img.config.author ?? '',
    Config: configView(img.config.config, !!compat.legacyConfig),
    Architecture: img.config.architecture,
    Variant: img.config.variant,
    Os: img.config.os,
    Size: img.size,
    ...(compat.virtualSize ? { VirtualSize: img.size } : {}),
    GraphDriver: { Name: 'overlay2', Data: null },
    RootFS: { Type: 'layers', Layers: img.config.rootfs.diff_ids },
    Metadata: { LastTagTime: img.storedAt },
  };
}
