// runc delete --force of a task that was created but never started can return before the
// killed `runc init` is gone, and then leaves the container's (empty) cgroup dirs behind (seen
// on cgroup v1 after a daemon was killed mid-start). Once conmon is gone they are empty and
// rmdir removes them; one that is still busy is left as it was.
import { existsSync } from 'node:fs';
import { readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** Removes the cgroup dirs at `relPath` (e.g. berth/<id>) under every hierarchy; never throws. */
export async function removeCgroupLeftovers(relPath: string): Promise<void> {
  const hierarchies = existsSync(join(CGROUP_ROOT, 'cgroup.controllers'))
    ? [CGROUP_ROOT]
    : (await readdir(CGROUP_ROOT).catch(() => [] as string[])).map((c) => join(CGROUP_ROOT, c));
  await Promise.all(hierarchies.map((h) => rmdir(join(h, relPath)).catch(() => undefined)));
}
