// Disk usage of a directory tree as Docker reports a container's SizeRw (moby's
// directory.Size): the apparent sizes of everything under it, each inode counted once so that
// hard links do not count twice; symlinks are not followed.
import { lstat, opendir } from 'node:fs/promises';
import { join } from 'node:path';

export async function dirSize(root: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    let handle;
    try {
      handle = await opendir(dir);
    } catch (err) {
      // The container may be removed while we count: what is gone counts as nothing.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for await (const entry of handle) {
      const path = join(dir, entry.name);
      let st;
      try {
        st = await lstat(path);
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        await walk(path);
        continue;
      }
      const key = `${st.dev}:${st.ino}`;
      if (st.nlink > 1) {
        if (seen.has(key)) continue;
        seen.add(key);
      }
      total += st.size;
    }
  };
  await walk(root);
  return total;
}
