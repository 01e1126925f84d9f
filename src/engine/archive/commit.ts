// `docker commit` (moby daemon/commit.go): the container's changes become one more layer on its
// image; the new image's config is the request's config with the --change instructions applied,
// filled in from the container's own config (moby's merge). A running container is frozen while
// its upper dir is read (pause=true, the default), so the layer is one consistent state; one
// that exits before the freeze is committed as it stopped.
import { applyChanges } from '../../images/changes.js';
import type { ImageContainerConfig } from '../../images/types.js';
import { upperLayerTar } from '../../images/layers/upper-layer-tar.js';
import { TaskNotRunningError } from '../../runtime/task-errors.js';
import type { ContainerConfig } from '../containers/model.js';
import type { ContainerService } from '../containers/service.js';
import { mountpointFilter } from '../containers/rootfs-access.js';
import { faultPoint } from '../../util/fault-point.js';

export interface CommitRequest {
  container: string;
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  pause: boolean;
  changes: string[];
  /** The request body: a container config whose image fields override the container's. */
  config: ImageContainerConfig;
}

const IMAGE_KEYS = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'Healthcheck', 'Shell', 'ArgsEscaped', 'OnBuild'] as const;

/** The image-config part of a container config (an image has no Hostname, Tty, ...). */
export function imageConfigOf(config: Partial<ContainerConfig> | ImageContainerConfig): ImageContainerConfig {
  const out: Record<string, unknown> = {};
  const src = config as Record<string, unknown>;
  for (const k of IMAGE_KEYS) if (src[k] !== undefined && src[k] !== null) out[k] = src[k];
  return out as ImageContainerConfig;
}

/** moby's merge(userConf, imageConf) for commit: what the user left empty comes from the container. */
export function mergeCommitConfig(user: ImageContainerConfig, container: ImageContainerConfig): ImageContainerConfig {
  const merged: ImageContainerConfig = { ...container, ...user };
  const keys = new Set((user.Env ?? []).map((e) => e.split('=')[0]));
  merged.Env = [...(user.Env ?? []), ...(container.Env ?? []).filter((e) => !keys.has(e.split('=')[0]))];
  merged.Labels = { ...(container.Labels ?? {}), ...(user.Labels ?? {}) };
  if (container.ExposedPorts || user.ExposedPorts) merged.ExposedPorts = { ...(container.ExposedPorts ?? {}), ...(user.ExposedPorts ?? {}) };
  if (container.Volumes || user.Volumes) merged.Volumes = { ...(container.Volumes ?? {}), ...(user.Volumes ?? {}) };
  if (!user.Entrypoint?.length && !user.Cmd?.length) {
    merged.Cmd = container.Cmd ?? null;
    merged.Entrypoint = container.Entrypoint ?? null;
  } else if (!user.Entrypoint?.length) {
    merged.Entrypoint = container.Entrypoint ?? null;
  }
  return merged;
}

/**
 * moby's commit pauses a running container and goes on whatever the pause answers: a container
 * that exits meanwhile needs no pause (its upper dir no longer changes), and the commit must not
 * fail for it. True when the container is frozen and needs a resume.
 */
async function freeze(svc: ContainerService, id: string): Promise<boolean> {
  try {
    await svc.deps.backend.pause(id);
    return true;
  } catch (err) {
    if (!(err instanceof TaskNotRunningError)) svc.deps.logger.warn({ err, id }, 'cannot pause container for commit; committing it running');
    return false;
  }
}

export async function commitContainer(svc: ContainerService, req: CommitRequest): Promise<{ Id: string }> {
  const c = svc.get(req.container);
  // Bad --change lines fail before anything is frozen or written.
  const userConfig = applyChanges(imageConfigOf(req.config), req.changes);
  const { backend, snapshots, images } = svc.deps;
  const id = await svc.lock.run(c.id, async () => {
    const frozen = req.pause && c.state.Status === 'running' && (await freeze(svc, c.id));
    try {
      faultPoint('commit.frozen');
      const layer = upperLayerTar(snapshots.upperDir(c.id), images.layerDirs(c.imageId), mountpointFilter(c));
      const img = await images.commit(c.imageId, layer, {
        repo: req.repo,
        tag: req.tag,
        config: mergeCommitConfig(userConfig, imageConfigOf(c.config)),
        author: req.author,
        comment: req.comment,
        createdBy: [c.path, ...c.args].filter(Boolean).join(' '),
      });
      return img.id;
    } finally {
      if (frozen) await backend.resume(c.id).catch((err) => svc.deps.logger.warn({ err, id: c.id }, 'cannot unpause container after commit'));
    }
  });
  svc.emit(c, 'commit', { comment: req.comment ?? '', imageID: id, imageRef: req.repo ? `${req.repo}:${req.tag || 'latest'}` : '' });
  return { Id: id };
}
