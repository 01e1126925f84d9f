// ImageFsInfo's figures: the bytes and inodes the image store occupies (blobs and unpacked
// layers). A walk of the layer trees costs milliseconds per thousand files, and cri-client asks on
// every connection, so only the first caller waits for a walk: later ones get the last figure at
// once, and one older than 10 s starts a new walk in the background (containerd's snapshot usage
// is refreshed on a similar period). Concurrent askers share one walk.
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface FsUsage {
  timestampNs: string;
  usedBytes: number;
  inodesUsed: number;
}

const FRESH_MS = 10_000;

export class ImageFsUsage {
  private last: { at: number; usage: FsUsage } | undefined;
  private running: Promise<FsUsage> | undefined;

  constructor(private readonly dirs: string[]) {}

  get(): Promise<FsUsage> {
    const last = this.last;
    if (last && Date.now() - last.at < FRESH_MS) return Promise.resolve(last.usage);
    this.running ??= this.measure().finally(() => {
      this.running = undefined;
    });
    if (last) {
      this.running.catch(() => undefined);
      return Promise.resolve(last.usage);
    }
    return this.running;
  }

  private async measure(): Promise<FsUsage> {
    const seen = new Set<string>();
    let bytes = 0;
    let inodes = 0;
    const walk = async (dir: string): Promise<void> => {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        return; // gone meanwhile (a layer removed, an ingest renamed in)
      }
      for (const name of names) {
        const path = join(dir, name);
        const st = await lstat(path).catch(() => undefined);
        if (!st) continue;
        // hard links (layers share none today, blobs never) are counted once
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
        inodes += 1;
        bytes += st.blocks * 512;
        if (st.isDirectory()) await walk(path);
      }
    };
    for (const d of this.dirs) await walk(d);
    const usage = { timestampNs: (BigInt(Date.now()) * 1_000_000n).toString(), usedBytes: bytes, inodesUsed: inodes };
    this.last = { at: Date.now(), usage };
    return usage;
  }
}
