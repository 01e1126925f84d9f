// The JSON shapes of GET /images/json and GET /images/{name}/json.
import { familiar } from '../images/reference.js';
import type { ImageRecord } from '../images/types.js';

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

export function imageInspectView(img: ImageRecord) {
  const created = img.config.created ?? img.storedAt;
  return {
    Id: img.id,
    RepoTags: img.repoTags.map(familiar),
    RepoDigests: img.repoDigests.map(familiar),
    Parent: '',
    Comment: img.config.history?.at(-1)?.comment ?? '',
    Created: created,
    DockerVersion: '',
    Author: img.config.author ?? '',
    Config: img.config.config ?? null,
    Architecture: img.config.architecture,
    Variant: img.config.variant,
    Os: img.config.os,
    Size: img.size,
    GraphDriver: { Name: 'overlay2', Data: null },
    RootFS: { Type: 'layers', Layers: img.config.rootfs.diff_ids },
    Metadata: { LastTagTime: img.storedAt },
  };
}
