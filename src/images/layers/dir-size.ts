// Disk usage of a directory tree as Docker reports a container's SizeRw (moby's
// directory.Size): the apparent sizes of everything under it, each inode counted once so that
// hard links do not count twice; symlinks are not followed. The tree may belong to a running
// container, so it is walked through held directory fds (src/util/in-root), never by host path.
import { RootDir } from '../../util/in-root/root-dir.js';
import { walkTree } from '../../util/in-root/walk-tree.js';
import { errnoOf } from '../../util/in-root/root-dir.js';

export async function dirSize(top: string): Promise<number> {
  let root: RootDir;
  try {
    root = await RootDir.open(top);
  } catch (err) {
    // The container may be removed while we count: what is gone counts as nothing.
    if (errnoOf(err) === 'ENOENT') return 0;
    throw err;
  }
  const seen = new Set<string>();
  let total = 0;
  try {
    for await (const { stat } of walkTree(root.fh)) {
      if (stat.isDirectory()) continue;
      if (stat.nlink > 1) {
        const key = `${stat.dev}:${stat.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      total += stat.size;
    }
  } finally {
    await root.close();
  }
  return total;
}
